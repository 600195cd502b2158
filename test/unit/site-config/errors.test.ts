import { describe, expect, it } from 'vitest';
import { Errors, isCoxError } from '../../../src/shared/errors.js';
import { loadSiteConfig, parseSiteConfig } from '../../../src/site-config/load.js';

const opts = { file: 'site-config/default.yaml', cwd: '/srv/lab', host: 'lab1' };

/** The CONFIG_INVALID message `parse` throws; fails the test if it throws nothing else. */
function failure(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    if (isCoxError(err, Errors.CONFIG_INVALID)) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID, nothing was thrown');
}

const lab1 = (instances: string) => `hosts:\n  lab1:\n    agent-instances:\n${instances}`;

describe('parseSiteConfig on bad files', () => {
  it('reports a YAML syntax error at its line', () => {
    const text = 'hub: {}\nhosts:\n  lab1:\n    log-dir: /x\n  stray\n  lab2: {}\n';
    expect(failure(() => parseSiteConfig(text, opts))).toBe(
      'site-config/default.yaml:5: Implicit keys need to be on a single line',
    );
  });

  it('reports a duplicate key at its line', () => {
    const text = 'hosts:\n  lab1:\n    log-dir: /x\n    log-dir: /y\n';
    expect(failure(() => parseSiteConfig(text, opts))).toBe('site-config/default.yaml:4: Map keys must be unique');
  });

  it('names file, line and field of a value with the wrong type', () => {
    const text = lab1(
      [
        '      - {agent-class: A, instance-id: a}',
        '      - {agent-class: B, instance-id: b}',
        '      - {agent-class: C, instance-id: [c]}',
        '',
      ].join('\n'),
    );
    expect(failure(() => parseSiteConfig(text, opts))).toBe(
      'site-config/default.yaml:6: hosts.lab1.agent-instances[2].instance-id: expected a string',
    );
  });

  it('points a missing required key at its entry', () => {
    const text = lab1('      - agent-class: A\n        arguments: [x]\n');
    expect(failure(() => parseSiteConfig(text, opts))).toBe(
      'site-config/default.yaml:4: hosts.lab1.agent-instances[0].instance-id: expected a string',
    );
  });

  it('lists every wrong value in file order, each at the key it belongs to', () => {
    const text = lab1(
      [
        '      - agent-class: A',
        '        instance-id: a',
        '        arguments:',
        '          - [--x, {bad: 1}]',
        '        env: {N: [1]}',
        '        stop-timeout: 0',
        '        command: []',
        '        cwd: 5',
        '',
      ].join('\n'),
    );
    expect(failure(() => parseSiteConfig(text, opts)).split('\n')).toEqual([
      'site-config/default.yaml:7: hosts.lab1.agent-instances[0].arguments[0][1]: expected a string, number, boolean or list',
      'site-config/default.yaml:8: hosts.lab1.agent-instances[0].env.N: expected a string, number or boolean',
      'site-config/default.yaml:9: hosts.lab1.agent-instances[0].stop-timeout: expected a number of seconds > 0',
      'site-config/default.yaml:10: hosts.lab1.agent-instances[0].command: expected a non-empty list of strings',
      'site-config/default.yaml:11: hosts.lab1.agent-instances[0].cwd: expected a string',
    ]);
  });

  it('rejects unknown or wrong restart settings', () => {
    const text = lab1(
      ['      - {agent-class: A, instance-id: a, command: [run],', '         restart: {stable-after: -1}}', ''].join('\n'),
    );
    expect(failure(() => parseSiteConfig(text, opts))).toBe(
      'site-config/default.yaml:5: hosts.lab1.agent-instances[0].restart.stable-after: expected a number of seconds > 0',
    );
    const typo = lab1('      - {agent-class: A, instance-id: a, command: [run], restart: {stable: 1}}\n');
    expect(failure(() => parseSiteConfig(typo, opts))).toMatch(
      /^site-config\/default\.yaml:4: hosts\.lab1\.agent-instances\[0\]\.restart: /,
    );
  });

  it('checks the types of hub, agent-classes and host keys', () => {
    const text = [
      'hub: {address_root: 7}',
      'agent-classes:',
      '  A: {command: node}',
      'hosts:',
      '  lab1:',
      '    log-dir: [a]',
      '    agent-instances: {a: 1}',
      '',
    ].join('\n');
    expect(failure(() => parseSiteConfig(text, opts)).split('\n')).toEqual([
      'site-config/default.yaml:1: hub.address_root: expected a string',
      'site-config/default.yaml:3: agent-classes.A.command: expected a list of strings',
    ]);
    const hostOnly = text.split('\n').slice(3).join('\n');
    expect(failure(() => parseSiteConfig(hostOnly, opts)).split('\n')).toEqual([
      'site-config/default.yaml:3: hosts.lab1.log-dir: expected a string',
      'site-config/default.yaml:4: hosts.lab1.agent-instances: expected a list',
    ]);
  });

  it('points a wrong value that came in through a merge key at where it is written', () => {
    const text = lab1(
      ['      - &base {agent-class: A, instance-id: a1, cwd: 5}', '      - {<<: *base, instance-id: a2}', ''].join('\n'),
    );
    expect(failure(() => parseSiteConfig(text, opts)).split('\n')).toEqual([
      'site-config/default.yaml:4: hosts.lab1.agent-instances[0].cwd: expected a string',
      'site-config/default.yaml:4: hosts.lab1.agent-instances[1].cwd: expected a string',
    ]);
  });

  it('does not check the blocks of other hosts', () => {
    const text = 'hosts:\n  lab1: {log-dir: /x}\n  lab2: {log-dir: [broken]}\n';
    expect(parseSiteConfig(text, opts).logDir).toBe('/x');
  });

  it('rejects a file that is not a mapping or has no hosts', () => {
    expect(failure(() => parseSiteConfig('', opts))).toBe('site-config/default.yaml:1: expected a mapping');
    expect(failure(() => parseSiteConfig('- a\n- b\n', opts))).toBe('site-config/default.yaml:1: expected a mapping');
    expect(failure(() => parseSiteConfig('hub: {}\n', opts))).toBe('site-config/default.yaml:1: hosts: expected a mapping');
  });

  it('names the host and the file when the host block is missing', () => {
    const text = 'hub: {}\nhosts:\n  lab1: {}\n  "lab2.example.org": {}\n';
    expect(failure(() => parseSiteConfig(text, { ...opts, host: 'lab9' }))).toBe(
      'site-config/default.yaml:2: hosts: no block for host "lab9" (hosts here: lab1, lab2.example.org)',
    );
    expect(failure(() => parseSiteConfig('hosts: {}\n', { ...opts, host: undefined }))).toMatch(
      /^site-config\/default\.yaml:1: hosts: no block for host ".+" or "localhost" \(hosts here: none\)$/,
    );
  });

  it('quotes host names that would read ambiguously in a path', () => {
    const text = 'hosts:\n  lab1.example.org:\n    log-dir: 3\n';
    expect(failure(() => parseSiteConfig(text, { ...opts, host: 'lab1.example.org' }))).toBe(
      'site-config/default.yaml:3: hosts["lab1.example.org"].log-dir: expected a string',
    );
  });

  it('names both lines of a duplicate instance-id', () => {
    const text = lab1(
      [
        '      - {agent-class: A, instance-id: a}',
        '      - {agent-class: B, instance-id: b}',
        '      - agent-class: C',
        '        instance-id: a',
        '',
      ].join('\n'),
    );
    expect(failure(() => parseSiteConfig(text, opts))).toBe(
      'site-config/default.yaml:7: hosts.lab1.agent-instances[2].instance-id: duplicate instance-id "a" (first on line 4)',
    );
  });

  it('skips an entry with an unknown manage value, with a warning', () => {
    const text = lab1(
      [
        '      - {agent-class: A, instance-id: a, command: [a]}',
        '      - agent-class: B',
        '        instance-id: b',
        '        manage: sometimes',
        '      - {agent-class: C, instance-id: c, manage: [up]}',
        '',
      ].join('\n'),
    );
    const config = parseSiteConfig(text, opts);
    expect(config.instances.map((i) => i.instanceId)).toEqual(['a']);
    expect(config.warnings).toEqual([
      {
        file: 'site-config/default.yaml',
        line: 7,
        message:
          'site-config/default.yaml:7: hosts.lab1.agent-instances[1].manage: "sometimes" is not one of host/up, host/down, docker/up, docker/down, ignore (or aliases yes, host, up, down, docker, no); entry skipped',
      },
      {
        file: 'site-config/default.yaml',
        line: 8,
        message:
          'site-config/default.yaml:8: hosts.lab1.agent-instances[2].manage: ["up"] is not one of host/up, host/down, docker/up, docker/down, ignore (or aliases yes, host, up, down, docker, no); entry skipped',
      },
    ]);
  });

  it('skips children whose instance-id cannot address them alone or name their log file, with a warning', () => {
    const text = lab1(
      [
        '      - {agent-class: HostManager, instance-id: sub/hm}',
        '      - {agent-class: A, instance-id: a}',
        '      - {agent-class: A, instance-id: all}',
        '      - {agent-class: A, instance-id: .}',
        '      - {agent-class: A, instance-id: ..}',
        '      - {agent-class: A, instance-id: sub/dir}',
        '      - {agent-class: A, instance-id: "nul\\0"}',
        '      - {agent-class: A, instance-id: ...}',
        '',
      ].join('\n'),
    );
    const config = parseSiteConfig(text, opts);
    // Not a child: its id names no log file or URL, and `all` in a request never means it.
    expect(config.hostManager?.instanceId).toBe('sub/hm');
    expect(config.instances.map((i) => i.instanceId)).toEqual(['a', '...']);
    expect(config.warnings.map((w) => [w.line, w.message])).toEqual([
      [6, 'site-config/default.yaml:6: hosts.lab1.agent-instances[2].instance-id: "all" is reserved: an update request for "all" means every child; entry skipped'],
      [7, 'site-config/default.yaml:7: hosts.lab1.agent-instances[3].instance-id: "." cannot name a child (its log file and URLs need a plain name); entry skipped'],
      [8, 'site-config/default.yaml:8: hosts.lab1.agent-instances[4].instance-id: ".." cannot name a child (its log file and URLs need a plain name); entry skipped'],
      [9, 'site-config/default.yaml:9: hosts.lab1.agent-instances[5].instance-id: "sub/dir" contains "/" or a NUL character, which cannot be in its log file\'s name; entry skipped'],
      [10, 'site-config/default.yaml:10: hosts.lab1.agent-instances[6].instance-id: "nul\\u0000" contains "/" or a NUL character, which cannot be in its log file\'s name; entry skipped'],
    ]);
  });

  it('keeps the first HostManager entry and warns about a second', () => {
    const text = lab1(
      [
        '      - {agent-class: HostManager, instance-id: hm1, arguments: [--initial-state, down]}',
        '      - {agent-class: HostManager, instance-id: hm2}',
        '',
      ].join('\n'),
    );
    const config = parseSiteConfig(text, opts);
    expect(config.hostManager).toEqual({ instanceId: 'hm1', arguments: ['--initial-state', 'down'], line: 4 });
    expect(config.warnings.map((w) => w.message)).toEqual([
      'site-config/default.yaml:5: hosts.lab1.agent-instances[1]: a second HostManager entry is ignored (the first is on line 4)',
    ]);
  });
});

describe('loadSiteConfig on a missing file', () => {
  it('throws CONFIG_INVALID naming the file as given', () => {
    expect(failure(() => loadSiteConfig({ file: 'nowhere/scf.yaml', cwd: '/srv/none' }))).toMatch(
      /^nowhere\/scf\.yaml: ENOENT: no such file or directory/,
    );
  });
});
