import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, parseAgentConfig } from '../../../src/agent/config/load.js';
import { Errors, isCoxError } from '../../../src/shared/errors.js';

/** REFERENCE 2.4, verbatim. */
const REFERENCE = `[main]
gid = 1
nid = 10
max_jobs = 100
message_id_file = "./.mid"      # log message ids: a 32-bit counter that survives restarts
history_file = "./.history"     # long-running jobs (max_time = -1), rerun at start
roles = []

[controllers.main]
url = "http://localhost:8966"
    [controllers.main.security]
    client_certificate = "/path/to/client.crt"
    client_certificate_key = "/path/to/client.key"
    certificate_authority = "/path/to/server.crt"

[cmds.execute_js_py]             # an extension command: name -> execute
binary = "python3"
cwd = "./python"
args = ["{domain}/{name}.py"]   # {key} from the job's args
env = {}

[channel]
cmds = ["main"]                 # controllers to long-poll; [] = all

[logging.db]
type = "DB"                     # sqlite files in log_dir
log_dir = "./logs"
levels = []                     # [] = all

[logging.ac]
type = "AC"                     # batched to controllers: flush every flush_int s or at batch_size
flush_int = 300
batch_size = 1000
controllers = []
levels = [2]

[logging.console]
type = "console"
levels = [2, 4, 7, 8, 9]

[stats]
interval = 60
controllers = []

[startup.init]                  # run once at agent start; id "init"; output queryable by job id
name = "execute_js_py"
    [startup.init.args]
    domain = "test"
    name = "startup"
    loglevels_db = "*"
`;

/** The seed's own example (certificates commented out there), with REFERENCE 2.4's headers. */
const SEED = `[main]
gid = 1
nid = 10
max_jobs = 100
message_id_file = "./.mid"
history_file = "./.history"
roles = []

[controllers.main]
    url = "http://localhost:8966"
    [controllers.main.security]
        #client_certificate = "/path/to/client-test.crt"
        #client_certificate_key = "/path/to/client-test.key"

        # defines an extra CA to trust (used in case of server self-signed certs)
        # should be empty string otherwise.

        #certificate_authority = "/path/to/server.crt"

[cmds.execute_js_py]
    binary = "python2.7"
    cwd = "./python"
    args = ["{domain}/{name}.py"]

[channel]
cmds = ["main"] # long polling from agent 'main'

[logging.db]
    type = "DB"
    log_dir = "./logs"
    levels = []  # empty for all

[logging.ac]
    type = "AC"
    flush_int = 300 # seconds (5min)
    batch_size = 1000 # max batch size, force flush if reached this count.
    controllers = [] # to all agents
    levels = [2]

[logging.console]
    type = "console"
    levels = [2, 4, 7, 8, 9]

[stats]
interval = 60 # seconds
controllers = []

[startup.intialize_something]
    name = "do_something"
    [startup.intialize_something.args]
        domaine = 'test'
        name = 'startup'
        loglevels_db = '*'
`;

const MINIMAL = '[main]\ngid = 1\nnid = 10\n\n[controllers.main]\nurl = "http://127.0.0.1:8966/"\n';

function failure(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    if (isCoxError(err, Errors.CONFIG_INVALID)) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID, nothing was thrown');
}

describe('parseAgentConfig on good files', () => {
  it('loads REFERENCE 2.4 (certificates are checked when present)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-agent-cfg-'));
    for (const f of ['client.crt', 'client.key', 'server.crt']) writeFileSync(join(dir, f), 'x');
    const text = REFERENCE.replaceAll('/path/to/', `${dir}/`);
    const c = parseAgentConfig(text, 'agent.toml', dir);
    expect(c).toMatchObject({
      gid: 1,
      nid: 10,
      maxJobs: 100,
      messageIdFile: join(dir, '.mid'),
      historyFile: join(dir, '.history'),
      stateDir: dir,
      roles: [],
      channel: ['main'],
      stats: { intervalMs: 60_000, controllers: ['main'] },
    });
    expect(c.controllers.main).toEqual({ key: 'main', url: 'http://localhost:8966', transport: 'stream', tls: { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: join(dir, 'server.crt') } });
    expect(c.cmds.execute_js_py).toEqual({ binary: 'python3', cwd: join(dir, 'python'), args: ['{domain}/{name}.py'], env: {} });
    expect(c.loggers.map((l) => [l.name, l.type, l.levels])).toEqual([
      ['db', 'DB', 'all'],
      ['ac', 'AC', new Set([2])],
      ['console', 'console', new Set([2, 4, 7, 8, 9])],
    ]);
    expect(c.loggers[1]).toMatchObject({ flushMs: 300_000, batchSize: 1000, controllers: ['main'] });
    expect(c.startup).toEqual([{ id: 'init', cmd: 'execute_js_py', args: expect.objectContaining({ domain: 'test', name: 'startup', loglevels_db: '*', max_time: 0 }) }]);
  });

  it("loads the seed's own example", () => {
    const c = parseAgentConfig(SEED, '/etc/agent/agent.toml');
    expect(c.controllers.main!.tls).toEqual({});
    expect(c.startup[0]).toMatchObject({ id: 'intialize_something', cmd: 'do_something', args: { domaine: 'test' } });
    expect(c.cmds.execute_js_py!.cwd).toBe('/etc/agent/python');
  });

  it('fills defaults, treats an empty certificate as none and [] as every controller', () => {
    const text = `${MINIMAL}[controllers.b]\nurl = "https://c2:1"\ntoken = "t"\n[controllers.b.security]\ncertificate_authority = ""\n`;
    const c = parseAgentConfig(text, '/a/agent.toml');
    expect(c).toMatchObject({ maxJobs: 100, messageIdFile: '/a/.mid', historyFile: '/a/.history', channel: ['main', 'b'], loggers: [], startup: [] });
    expect(c.controllers.main!.url).toBe('http://127.0.0.1:8966');
    expect(c.controllers.b).toEqual({ key: 'b', url: 'https://c2:1', token: 't', transport: 'stream', tls: {} });
  });

  it('loads the example shipped in site-config/', () => {
    const c = loadAgentConfig('site-config/agent.toml');
    expect(c.startup.map((s) => s.id)).toEqual(['init']);
  });
});

describe('parseAgentConfig on bad files', () => {
  it('reports a syntax error at its line and column, with the key', () => {
    expect(failure(() => parseAgentConfig('[main]\ngid = 1\nnid = = 2\n', 'agent.toml'))).toBe('agent.toml:3:7: main.nid: invalid value');
  });

  it('reports a redefined key', () => {
    expect(failure(() => parseAgentConfig(`${MINIMAL}[main]\nroles=[]\n`, 'agent.toml'))).toBe(
      'agent.toml:7:2: main: trying to redefine an already defined table or value',
    );
  });

  it('names file, line and key of a value of the wrong type', () => {
    const text = MINIMAL.replace('nid = 10', 'nid = "ten"') + '\n[logging.ac]\ntype = "AC"\nflush_int = -3\nlevels = [2, 40]\n';
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      [
        'agent.toml:3: main.nid: expected an integer',
        'agent.toml:10: logging.ac.flush_int: expected a number of seconds > 0',
        'agent.toml:11: logging.ac.levels[1]: expected a level from 1 to 30',
      ].join('\n'),
    );
  });

  it('refuses node numbers a controller path cannot carry, and periods past what a timer keeps', () => {
    const text = MINIMAL.replace('nid = 10', 'nid = 1000000000').replace('gid = 1', 'gid = -1') + '\n[stats]\ninterval = 3000000\n';
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      [
        'agent.toml:2: main.gid: expected an integer from 0 to 999999999',
        'agent.toml:3: main.nid: expected an integer from 0 to 999999999',
        'agent.toml:9: stats.interval: expected at most 2147483 seconds (24.8 days)',
      ].join('\n'),
    );
  });

  it('names the transport key when it is neither stream nor http', () => {
    expect(failure(() => parseAgentConfig(`${MINIMAL}transport = "pigeon"\n`, 'agent.toml'))).toBe('agent.toml:7: controllers.main.transport: expected "stream" or "http"');
    expect(parseAgentConfig(`${MINIMAL}transport = "http"\n`, 'agent.toml').controllers.main!.transport).toBe('http');
  });

  it('points a missing key at its table and a missing table at line 1', () => {
    expect(failure(() => parseAgentConfig('# agent\n\n[main]\ngid = 1\n', 'agent.toml'))).toBe(
      ['agent.toml:1: controllers: missing (expected [controllers.<name>] tables)', 'agent.toml:3: main.nid: missing (expected an integer)'].join('\n'),
    );
  });

  it('reports unknown keys and logger types', () => {
    const text = `${MINIMAL}max_job = 3\n[logging.x]\ntype = "file"\n`;
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      ['agent.toml:7: controllers.main.max_job: unknown key', 'agent.toml:9: logging.x.type: expected type = "DB", "AC" or "console"'].join('\n'),
    );
  });

  it('reports references to controllers that do not exist, and shadowed built-ins', () => {
    const text = `${MINIMAL}[channel]\ncmds = ["main", "other"]\n[cmds.ping]\nbinary = "x"\n[stats]\ncontrollers = ["x"]\n`;
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      [
        'agent.toml:8: channel.cmds[1]: no [controllers.other] (controllers here: main)',
        'agent.toml:9: cmds.ping: "ping" is a built-in command',
        'agent.toml:12: stats.controllers[0]: no [controllers.x] (controllers here: main)',
      ].join('\n'),
    );
  });

  it('requires a certificate and its key together, and readable', () => {
    const text = `${MINIMAL}[controllers.main.security]\nclient_certificate = "/nonexistent/c.crt"\n`;
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      'agent.toml:7: controllers.main.security.client_certificate_key: client_certificate and client_certificate_key go together',
    );
    const both = `${text}client_certificate_key = "/nonexistent/c.key"\n`;
    expect(failure(() => parseAgentConfig(both, 'agent.toml'))).toBe(
      [
        'agent.toml:8: controllers.main.security.client_certificate: cannot read /nonexistent/c.crt',
        'agent.toml:9: controllers.main.security.client_certificate_key: cannot read /nonexistent/c.key',
      ].join('\n'),
    );
  });

  it('validates startup args with the job schema', () => {
    const text = `${MINIMAL}[startup.init]\nname = "ping"\n[startup.init.args]\nmax_time = "long"\n`;
    expect(failure(() => parseAgentConfig(text, 'agent.toml'))).toBe(
      'agent.toml:10: startup.init.args.max_time: Invalid input: expected number, received string',
    );
  });

  it('names a file it cannot read, and creates nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-agent-cfg-'));
    writeFileSync(join(dir, 'agent.toml'), MINIMAL.replace('gid = 1', 'gid = 1.5'));
    expect(failure(() => loadAgentConfig('agent.toml', dir))).toBe('agent.toml:2: main.gid: expected an integer');
    expect(failure(() => loadAgentConfig('missing.toml', dir))).toMatch(/^missing.toml: ENOENT/);
    expect(readdirSync(dir)).toEqual(['agent.toml']);
  });
});
