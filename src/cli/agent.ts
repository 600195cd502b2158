/**
 * `cox agent --config agent.toml`: the node agent daemon. A configuration that does not load
 * stops it before it touches anything (exit 2, the message names file, line and key). SIGTERM
 * and SIGINT stop it gracefully; a `restart` job stops it and exits 75 (EX_TEMPFAIL) so that its
 * supervisor (systemd `Restart=on-failure`) starts it again.
 */
import { Command, Option } from 'commander';
import pino from 'pino';
import { LOG_LEVELS } from '../shared/log-levels.js';

const EXIT_RESTART = 75;

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the node agent: long-poll the controllers and run their jobs')
    .requiredOption('-c, --config <file>', 'agent configuration (TOML, agent2 format)')
    .addOption(new Option('--log-level <level>', 'agent log level').choices(LOG_LEVELS).default('info'))
    .action(async (opts: { config: string; logLevel: string }) => {
      // Loaded on use, so the other subcommands start fast.
      const [{ startAgent }, { loadAgentConfig }, { Notifier }] = await Promise.all([import('../agent/agent.js'), import('../agent/config/load.js'), import('../systemd/notify.js')]);
      const config = loadAgentConfig(opts.config);
      const logger = pino({ level: opts.logLevel, base: { node: `${config.gid}_${config.nid}` } });
      // Taken out of process.env before the first job is spawned with a copy of it.
      const notifier = Notifier.fromEnv(process.env, logger);
      const agent = startAgent(config, { logger, onRestart: () => process.exit(EXIT_RESTART) });
      // Its unit is Type=notify: systemd counts it started once its configuration loaded and its
      // pollers run, not once a controller answers: one that is down at boot must not fail the unit.
      void notifier.notify('READY=1', `STATUS=polling ${config.channel.length} controller(s)`);
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'stopping');
        const forced = setTimeout(() => process.exit(1), 30_000);
        forced.unref();
        void Promise.all([notifier.notify('STOPPING=1', 'STATUS=finishing reports'), agent.stop()]).then(() => process.exit(0));
      };
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown(signal));
    });
}
