import { describe, expect, it } from 'vitest';
import { execArg, renderUnit, timeoutStopSec, unitName } from '../../../src/systemd/unit.js';

const base = { node: '/usr/bin/node', main: '/opt/coxswain/dist/cli/main.js', timeoutStopSec: 45 };
const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('renderUnit', () => {
  it('writes the host manager unit: notify, ordered after docker without pulling it in, restarted, mixed kill', () => {
    const text = renderUnit({ ...base, component: 'hostmanager', args: ['--site-file', '/etc/coxswain/site.yaml'] });
    expect(lines(text)).toEqual([
      '[Unit]',
      "Description=coxswain host manager: keeps this host's agents in their target state",
      'Wants=network-online.target',
      'After=network-online.target docker.service',
      '[Service]',
      'Type=notify',
      'NotifyAccess=all',
      'ExecStart=/usr/bin/node --max-semi-space-size=2 /opt/coxswain/dist/cli/main.js hostmanager --site-file /etc/coxswain/site.yaml',
      'EnvironmentFile=-/etc/default/coxswain',
      'StateDirectory=coxswain',
      'WorkingDirectory=/var/lib/coxswain',
      'Restart=always',
      'RestartSec=5',
      'KillMode=mixed',
      'TimeoutStopSec=45',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
    expect(lines(text).filter((l) => l.startsWith('Wants='))).toEqual(['Wants=network-online.target']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('writes agent and controller units without docker, with the user when given', () => {
    const agent = renderUnit({ ...base, component: 'agent', args: ['--config', '/etc/coxswain/agent.toml'], user: 'cox' });
    expect(lines(agent)).toContain('ExecStart=/usr/bin/node /opt/coxswain/dist/cli/main.js agent --config /etc/coxswain/agent.toml');
    expect(lines(agent)).toContain('User=cox');
    expect(agent).not.toContain('docker');
    expect(lines(renderUnit({ ...base, component: 'controller', args: [] }))).toContain('ExecStart=/usr/bin/node /opt/coxswain/dist/cli/main.js controller');
    expect(unitName('controller')).toBe('coxswain-controller.service');
  });
});

describe('execArg', () => {
  it('leaves plain words alone and doubles specifiers', () => {
    expect(execArg('/srv/site-config/default.yaml')).toBe('/srv/site-config/default.yaml');
    expect(execArg('50%')).toBe('50%%');
  });
  it('quotes anything else, escaping quotes, backslashes, $ and control characters', () => {
    expect(execArg('/data/my site.yaml')).toBe('"/data/my site.yaml"');
    expect(execArg('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(execArg('$HOME')).toBe('"$$HOME"');
    expect(execArg('a\nb')).toBe('"a\\x0ab"');
    expect(execArg('')).toBe('""');
  });
});

describe('timeoutStopSec', () => {
  it("stays above the daemon's own deadline: 30 s, or the longest grace plus 20 s", () => {
    expect(timeoutStopSec(0)).toBe(45);
    expect(timeoutStopSec(10_000)).toBe(45);
    expect(timeoutStopSec(60_000)).toBe(85);
    expect(timeoutStopSec(60_500)).toBe(86);
  });
});
