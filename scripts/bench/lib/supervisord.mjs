// supervisord as a bench peer: our own supervisord (never the system service) with its own config,
// socket and logs in the run's temp dir, in the foreground (nodaemon) so we own its pid.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { tagEnv } from './procfs.mjs';
import { run, waitUntil, withTimeout } from './util.mjs';

export async function ensureSupervisord() {
  if ((await run('which', ['supervisord'])).code === 0) return;
  console.error('supervisord missing: apt-get install -y supervisor');
  let r = await run('apt-get', ['install', '-y', 'supervisor'], { timeoutMs: 300_000 });
  if (r.code !== 0) {
    await run('apt-get', ['update'], { timeoutMs: 300_000 });
    r = await run('apt-get', ['install', '-y', 'supervisor'], { timeoutMs: 300_000 });
  }
  if ((await run('which', ['supervisord'])).code !== 0) throw new Error(`cannot install supervisor: ${r.stderr.slice(-500)}`);
}

// supervisord splits `command=` with shlex and expands %(name)s, so quote for both.
const quote = (arg) => `'${arg.replace(/'/g, `'\\''`).replace(/%/g, '%%')}'`;

/** One XML-RPC call over the unix socket, bounded in time. Resolves to the raw XML response. */
function xmlrpc(socketPath, method, paramsXml = '') {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${paramsXml}</params></methodCall>`;
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: '/RPC2', method: 'POST', timeout: 15_000, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (data += d));
        res.on('end', () => {
          if (res.statusCode === 200 && !data.includes('<fault>')) resolve(data);
          else reject(new Error(`${method}: HTTP ${res.statusCode} ${data.slice(0, 300)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * programs: [{name, argv, autostart}]. `startsecs` is supervisord's "stable run": a process is
 * RUNNING only after it stayed up that long.
 */
export async function startSupervisord({ programs, tag, dir, startsecs = 1 }) {
  const sock = join(dir, 'supervisor.sock');
  const conf = join(dir, 'supervisord.conf');
  const lines = [
    '[unix_http_server]', `file=${sock}`, '',
    '[supervisord]', 'nodaemon=true', `logfile=${join(dir, 'supervisord.log')}`, `pidfile=${join(dir, 'supervisord.pid')}`,
    `childlogdir=${dir}`, 'minfds=8192', 'minprocs=4096', '',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
    '[supervisorctl]', `serverurl=unix://${sock}`, '',
  ];
  for (const p of programs) {
    lines.push(
      `[program:${p.name}]`, `command=${p.argv.map(quote).join(' ')}`, `autostart=${p.autostart}`, 'autorestart=true',
      `startsecs=${startsecs}`, 'stopasgroup=true', 'killasgroup=true', 'stopwaitsecs=5',
      // Output goes to supervisord's default per-program log files, as coxswain's and PM2's do.
      '',
    );
  }
  writeFileSync(conf, lines.join('\n'));

  const out = openSync(join(dir, 'supervisord.out'), 'a');
  const child = spawn('supervisord', ['-c', conf], { cwd: dir, env: tagEnv(tag), stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ctl = (args, timeoutMs = 30_000) => run('supervisorctl', ['-c', conf, ...args], { timeoutMs });

  const handle = {
    name: 'supervisord',
    pid: child.pid,
    /** `supervisorctl start all`, which returns once every program reached RUNNING (or failed). */
    async startAll() {
      const r = await ctl(['start', 'all'], 300_000);
      if (r.killed) throw new Error('supervisorctl start all took longer than 300 s');
    },
    async countUp() {
      const xml = await xmlrpc(sock, 'supervisor.getAllProcessInfo');
      return xml.match(/<name>statename<\/name>\s*<value><string>RUNNING<\/string>/g)?.length ?? 0;
    },
    /** SIGTERM: supervisord stops every program, then exits. Returns ms taken. */
    async close() {
      const t0 = performance.now();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        try {
          await withTimeout(exited, 60_000, 'supervisord shutdown');
        } catch (err) {
          child.kill('SIGKILL');
          await withTimeout(exited, 5_000, 'supervisord SIGKILL').catch(() => {});
          throw err;
        }
      }
      return performance.now() - t0;
    },
  };

  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`supervisord exited with ${child.exitCode}; see ${dir}/supervisord.log`);
        return (await xmlrpc(sock, 'supervisor.getState')).includes('RUNNING');
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'supervisord to answer on its socket' },
    );
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  return handle;
}
