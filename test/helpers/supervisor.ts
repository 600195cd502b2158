/** A real supervisor over real native processes, in a temporary log dir, torn down after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Supervisor } from '../../src/hostmanager/supervisor.js';
import { runChildLogic } from '../../src/hostmanager/child/run-child.js';
import { Launcher } from '../../src/hostmanager/launcher/launcher.js';
import { nativeRunner } from '../../src/hostmanager/process/native-driver.js';
import type { InstanceConfig, SiteConfig } from '../../src/site-config/types.js';

export function siteConfig(instances: InstanceConfig[], logDir: string): SiteConfig {
  return { file: '/dev/null', host: 'localhost', hub: { addressRoot: 'observatory' }, logDir, instances, warnings: [] };
}

export function makeSupervisor() {
  const logDir = mkdtempSync(join(tmpdir(), 'cox-test-'));
  const launcher = new Launcher();
  const supervisor = new Supervisor({ runChild: runChildLogic({ native: nativeRunner({ logDir, launcher }) }), logger: pino({ level: 'silent' }) });
  const state = (id: string) => supervisor.states().find((s) => s.instance_id === id);
  return {
    supervisor,
    launcher,
    logDir,
    state,
    apply: (instances: InstanceConfig[]) => supervisor.apply(siteConfig(instances, logDir)),
    async close() {
      await supervisor.stopAll(5_000);
      launcher.close();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
