import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSiteConfig, parseSiteConfig } from '../../../src/site-config/load.js';

const opts = { file: 'site-config/test.yaml', cwd: '/srv/lab' };
const scfDir = '/srv/lab/site-config';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** REFERENCE 1.1, verbatim. */
const referenceExample = `hub:                                  # OCS: WAMP router settings; we keep the block, see 1.6
  wamp_http: http://127.0.0.1:8001/call
  address_root: observatory
hosts:
  host-1:                             # a hostname, a pseudo-host, or 'localhost' (fallback)
    log-dir: /var/log/coxswain        # relative paths are joined to the working dir
    agent-instances:
      - {agent-class: HostManager, instance-id: hm-host-1,
         arguments: [--initial-state, up, --docker-compose, /srv/compose/docker-compose.yaml]}
      - {agent-class: Lakeshore240Agent, instance-id: thermo1, manage: host/down,
         arguments: [[--serial-number, LSA11AA], [--mode, idle]]}
      - {agent-class: Lakeshore372Agent, instance-id: LSARR00, manage: docker,
         arguments: [--serial-number, LSARR00]}          # compose service must be "ocs-LSARR00"
      - {agent-class: RegistryAgent, instance-id: registry, manage: ignore}
`;

describe('parseSiteConfig on good files', () => {
  it('loads the REFERENCE 1.1 example', () => {
    expect(parseSiteConfig(referenceExample, { ...opts, host: 'host-1' })).toEqual({
      file: '/srv/lab/site-config/test.yaml',
      host: 'host-1',
      hub: { wampHttp: 'http://127.0.0.1:8001/call', addressRoot: 'observatory' },
      logDir: '/var/log/coxswain',
      hostManager: {
        instanceId: 'hm-host-1',
        arguments: ['--initial-state', 'up', '--docker-compose', '/srv/compose/docker-compose.yaml'],
        line: 8,
      },
      instances: [
        {
          instanceId: 'thermo1',
          agentClass: 'Lakeshore240Agent',
          manage: 'host/down',
          arguments: ['--serial-number', 'LSA11AA', '--mode', 'idle'],
          launch: null,
          notOperableReason:
            'agent-class "Lakeshore240Agent" has no command: add a command: to the instance or an agent-classes: entry',
          stopGraceMs: 10_000,
          line: 10,
        },
        {
          instanceId: 'LSARR00',
          agentClass: 'Lakeshore372Agent',
          manage: 'docker/up',
          arguments: ['--serial-number', 'LSARR00'],
          launch: null,
          stopGraceMs: 10_000,
          line: 12,
        },
        {
          instanceId: 'registry',
          agentClass: 'RegistryAgent',
          manage: 'ignore',
          arguments: [],
          launch: null,
          stopGraceMs: 10_000,
          line: 14,
        },
      ],
      warnings: [],
    });
  });

  it('accepts every OCS key of hub, hosts and instances', () => {
    const text = `
hub:
  wamp_server: ws://10.0.0.1:8001/ws
  wamp_http: http://10.0.0.1:8001/call
  wamp_realm: test_realm
  address_root: observatory
  registry_address: observatory.registry
  access_policy: {read: all}
  crossbar: {config-dir: /srv/crossbar, bin: /usr/bin/crossbar}
  crossbar_timeout: 20
hosts:
  lab1:
    log-dir: /var/log/ocs
    crossbar: {config-dir: /srv/crossbar}
    agent-paths: [/srv/socs/agents, /srv/ocs/agents]
    wamp_server: ws://localhost:8001/ws
    wamp_realm: test_realm
    agent-instances:
      - {agent-class: FakeDataAgent, instance-id: faker, manage: yes, crossbar: x, some-new-key: [1]}
`;
    const config = parseSiteConfig(text, { ...opts, host: 'lab1' });
    expect(config.hub).toEqual({ wampHttp: 'http://10.0.0.1:8001/call', addressRoot: 'observatory' });
    expect(config.instances.map((i) => [i.instanceId, i.manage])).toEqual([['faker', 'host/up']]);
  });

  it('defaults hub.address_root, log-dir and cwd', () => {
    const config = parseSiteConfig('hosts:\n  lab1:\n    agent-instances:\n      - {agent-class: A, instance-id: a, command: [a]}\n', {
      ...opts,
      host: 'lab1',
    });
    expect(config.hub).toEqual({ addressRoot: 'observatory' });
    expect(config.logDir).toBe('/srv/lab/logs');
    expect(config.instances[0]?.launch).toEqual({ argv: ['a'], cwd: scfDir, env: {} });
  });

  it('joins a relative log-dir to the working dir', () => {
    const config = parseSiteConfig('hosts: {lab1: {log-dir: var/logs}}\n', { ...opts, host: 'lab1' });
    expect(config.logDir).toBe('/srv/lab/var/logs');
  });

  it('treats an empty host block or agent-instances as no instances', () => {
    expect(parseSiteConfig('hosts:\n  lab1:\n', { ...opts, host: 'lab1' }).instances).toEqual([]);
    expect(parseSiteConfig('hosts:\n  lab1:\n    agent-instances:\n', { ...opts, host: 'lab1' }).instances).toEqual([]);
  });

  it('flattens nested arguments at any depth and turns scalars into strings', () => {
    const text = `hosts:
  lab1:
    agent-instances:
      - agent-class: A
        instance-id: a
        arguments: [--n, 4, [--gain, 1.5, [--verbose, true]], [], -x]
`;
    const [a] = parseSiteConfig(text, { ...opts, host: 'lab1' }).instances;
    expect(a?.arguments).toEqual(['--n', '4', '--gain', '1.5', '--verbose', 'true', '-x']);
  });

  it('launches from agent-classes, with the instance overriding command, cwd and env', () => {
    const text = `agent-classes:
  Thermo:
    command: [node, scripts/thermo.mjs]
    cwd: ..
    env: {UNITS: K, CHANNELS: 4, DEBUG: false}
hosts:
  lab1:
    agent-instances:
      - {agent-class: Thermo, instance-id: t1, arguments: [[--period, 2]]}
      - {agent-class: Thermo, instance-id: t2, cwd: /opt/thermo, env: {UNITS: C}, stop-timeout: 2.5}
      - {agent-class: Thermo, instance-id: t3, command: [python3, -m, thermo], cwd: work}
`;
    const [t1, t2, t3] = parseSiteConfig(text, { ...opts, host: 'lab1' }).instances;
    expect(t1?.launch).toEqual({
      argv: ['node', 'scripts/thermo.mjs', '--period', '2'],
      cwd: '/srv/lab',
      env: { UNITS: 'K', CHANNELS: '4', DEBUG: 'false' },
    });
    expect(t1?.stopGraceMs).toBe(10_000);
    expect(t2?.launch).toEqual({
      argv: ['node', 'scripts/thermo.mjs'],
      cwd: '/opt/thermo',
      env: { UNITS: 'C', CHANNELS: '4', DEBUG: 'false' },
    });
    expect(t2?.stopGraceMs).toBe(2500);
    expect(t3?.launch).toEqual({
      argv: ['python3', '-m', 'thermo'],
      cwd: `${scfDir}/work`,
      env: { UNITS: 'K', CHANNELS: '4', DEBUG: 'false' },
    });
  });

  it('reads restart tuning in seconds into milliseconds', () => {
    const text = `hosts:
  lab1:
    agent-instances:
      - {agent-class: A, instance-id: a1, command: [run], restart: {stable-after: 2, backoff-base: 0.5, backoff-max: 30, jitter: 0.1}}
      - {agent-class: A, instance-id: a2, command: [run]}
`;
    const [a1, a2] = parseSiteConfig(text, { ...opts, host: 'lab1' }).instances;
    expect(a1?.restart).toEqual({ stableAfterMs: 2000, baseDelayMs: 500, maxDelayMs: 30_000, jitter: 0.1 });
    expect(a2?.restart).toBeUndefined();
  });

  it('reads entries brought in by YAML anchors and merge keys', () => {
    const text = `hosts:
  lab1:
    agent-instances:
      - &base {agent-class: A, instance-id: a1, command: [run], arguments: [--x]}
      - {<<: *base, instance-id: a2}
`;
    const config = parseSiteConfig(text, { ...opts, host: 'lab1' });
    expect(config.instances.map((i) => [i.instanceId, i.launch?.argv])).toEqual([
      ['a1', ['run', '--x']],
      ['a2', ['run', '--x']],
    ]);
  });
});

describe('host selection', () => {
  const twoHosts = (first: string) =>
    `hosts:\n  ${JSON.stringify(first)}: {log-dir: /first}\n  localhost: {log-dir: /fallback}\n`;

  it('takes the given host', () => {
    expect(parseSiteConfig(twoHosts('lab1'), { ...opts, host: 'localhost' }).logDir).toBe('/fallback');
  });

  it("takes the machine's hostname when no host is given", () => {
    const config = parseSiteConfig(twoHosts(os.hostname()), opts);
    expect([config.host, config.logDir]).toEqual([os.hostname(), '/first']);
  });

  it('falls back to localhost when the hostname has no block', () => {
    const config = parseSiteConfig(twoHosts(`not-${os.hostname()}`), opts);
    expect([config.host, config.logDir]).toEqual(['localhost', '/fallback']);
  });
});

describe('loadSiteConfig', () => {
  it("loads the repo's site-config/default.yaml from any working dir", () => {
    const config = loadSiteConfig({ file: path.join(repoRoot, 'site-config/default.yaml'), host: 'localhost', cwd: '/tmp' });
    expect(config.warnings).toEqual([]);
    expect(config.hostManager?.instanceId).toBe('hm-localhost');
    expect(config.hostManager?.arguments).toEqual(['--docker-service-prefix', 'ocs-']);
    expect(config.hub).toEqual({ wampHttp: 'http://127.0.0.1:8011/call', addressRoot: 'observatory' });
    expect(config.logDir).toBe('/tmp/logs');
    const byId = Object.fromEntries(config.instances.map((i) => [i.instanceId, i]));
    expect(byId['fake-docker1']).toMatchObject({ manage: 'docker/up', launch: null });
    expect(byId['thermo2']?.manage).toBe('host/down');
    const native = config.instances.filter((i) => i.launch);
    expect(native.length).toBeGreaterThanOrEqual(4);
    for (const child of native) {
      expect(child.launch?.cwd).toBe(path.resolve(repoRoot));
      expect(child.launch?.argv[0]).toBe('node');
    }
  });

  it('resolves a relative file against cwd', () => {
    const config = loadSiteConfig({ file: 'site-config/default.yaml', host: 'localhost', cwd: repoRoot });
    expect(config.file).toBe(path.join(repoRoot, 'site-config/default.yaml'));
  });
});
