/** Builders for typed SCF instances, so integration tests can drive a supervisor directly. */
import { fileURLToPath } from 'node:url';
import type { InstanceConfig } from '../../src/site-config/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function nodeInstance(instanceId: string, script: string, args: string[] = [], extra: Partial<InstanceConfig> = {}): InstanceConfig {
  return {
    instanceId,
    agentClass: 'TestAgent',
    manage: 'host/up',
    arguments: args,
    launch: { argv: [process.execPath, FIXTURES + script, ...args], cwd: FIXTURES, env: {} },
    stopGraceMs: 10_000,
    line: 1,
    ...extra,
  };
}
