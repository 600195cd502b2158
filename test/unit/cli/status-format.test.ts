import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../../src/cli/format-status.js';
import { describeProgress, progress } from '../../../src/cli/wait-progress.js';
import type { ChildState } from '../../../src/hostmanager/child/child-state.js';

const child = (instance_id: string, next_action: string, extra: Partial<ChildState> = {}): ChildState => ({
  instance_id,
  agent_class: 'A',
  target_state: 'up',
  next_action,
  stability: 1,
  operable: true,
  restart_required: false,
  pid: null,
  reason: 'why',
  last_exit: null,
  crashes: 0,
  next_start_at: null,
  up_since: null,
  ...extra,
});

describe('formatStatus', () => {
  it('shows unstable at stability 0.5 or less, as ocsbow does, and config errors below the table', () => {
    const text = formatStatus('http://h:1', {
      host: 'lab1',
      instance_id: 'hm-lab1',
      manager: { running: true, status: 'running', success: null },
      children: [child('ok', 'up', { stability: 0.51 }), child('shaky', 'up', { stability: 0.5 }), child('off', 'down', { target_state: 'down', reason: 'stopped on request' })],
      configured: ['ok', 'shaky', 'off'],
      config_parse_status: { '[SCF]': [false, 0, 'site.yaml:3: bad'], 'compose.yaml': [true, 0, 'OK: 2 services, project "p"'] },
    });
    expect(text.split('\n')).toEqual([
      'lab1:',
      '  [instance-id]  [agent-class]  [state]   [target]  [note]',
      '  hm-lab1        HostManager    up                  http://h:1',
      '  ok             A              up        up',
      '  shaky          A              unstable  up',
      '  off            A              down      down      stopped on request',
      '  ',
      '  config error in [SCF] (1970-01-01T00:00:00.000Z): site.yaml:3: bad',
    ]);
  });

  it('shows the warnings of a file that was read with entries skipped', () => {
    const text = formatStatus('http://h:1', {
      host: 'lab1',
      instance_id: 'hm-lab1',
      manager: { running: true, status: 'running', success: null },
      children: [],
      configured: [],
      config_parse_status: { '[SCF]': [true, 0, 'site.yaml:9: hosts.lab1.agent-instances[1].manage: "x" is not one of …; entry skipped'] },
    });
    expect(text.split('\n').slice(-1)).toEqual(['  config warning in [SCF] (1970-01-01T00:00:00.000Z): site.yaml:9: hosts.lab1.agent-instances[1].manage: "x" is not one of …; entry skipped']);
  });
});

describe('wait progress', () => {
  const kids = [child('a', 'up'), child('b', 'wait_start'), child('c', '?'), child('d', 'down')];
  it('sorts children into done, pending and stuck for up', () => {
    expect(progress(kids, 'all', 'up')).toEqual({ done: ['a'], pending: ['b', 'd'], stuck: ['c'] });
    expect(describeProgress(progress(kids, 'all', 'up'), 'up')).toBe('1/4 up; waiting for b, d');
  });
  it('counts inoperable children as down, and only the ids asked for', () => {
    expect(progress(kids, ['c', 'd'], 'down')).toEqual({ done: ['c', 'd'], pending: [], stuck: [] });
  });
});
