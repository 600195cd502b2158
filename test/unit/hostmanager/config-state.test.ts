import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigState, SCF_KEY } from '../../../src/hostmanager/config-state.js';
import type { SiteConfig } from '../../../src/site-config/types.js';

const scf = (ids: string[], hmArgs: string[]) =>
  [
    'hosts:',
    '  h:',
    '    agent-instances:',
    `      - {agent-class: HostManager, instance-id: hm, arguments: ${JSON.stringify(hmArgs)}}`,
    ...ids.map((id) => `      - {agent-class: A, instance-id: ${id}, command: [x]}`),
    '',
  ].join('\n');

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('ConfigState', () => {
  it('treats a config its check refuses like one that does not parse: reported, and the last good one kept', () => {
    dir = mkdtempSync(join(tmpdir(), 'cox-config-state-'));
    const file = join(dir, 'site.yaml');
    const check = (site: SiteConfig) => {
      if (site.hostManager?.arguments.includes('--bad')) throw new Error(`${file}:4: arguments: --bad`);
    };
    const config = new ConfigState({ file, host: 'h', now: () => 1000, check });
    writeFileSync(file, scf(['a'], []));
    const good = config.reload().config;
    expect(good?.instances.map((i) => i.instanceId)).toEqual(['a']);

    writeFileSync(file, scf(['a', 'b'], ['--bad']));
    expect(config.reload()).toEqual({ config: good, error: `${file}:4: arguments: --bad` });
    expect(config.current).toBe(good);
    expect(config.parseStatus[SCF_KEY]).toEqual([false, 1, `${file}:4: arguments: --bad`]);
  });
});
