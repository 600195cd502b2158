import type { Manage } from './types.js';

const NORMAL_FORMS: Record<string, Manage> = {
  'host/up': 'host/up',
  yes: 'host/up',
  host: 'host/up',
  up: 'host/up',
  'host/down': 'host/down',
  down: 'host/down',
  'docker/up': 'docker/up',
  docker: 'docker/up',
  'docker/down': 'docker/down',
  ignore: 'ignore',
  no: 'ignore',
};

/** The `manage` normal forms of REFERENCE 1.1; `undefined` means the value is not one of them. */
export function normaliseManage(value: unknown): Manage | undefined {
  if (value === undefined || value === null) return 'host/up';
  // PyYAML reads a bare `yes`/`no` as a boolean, so an OCS file that says `manage: yes` means
  // true; accept the booleans as the aliases they were written as.
  if (value === true) return 'host/up';
  if (value === false) return 'ignore';
  return typeof value === 'string' && Object.hasOwn(NORMAL_FORMS, value) ? NORMAL_FORMS[value] : undefined;
}

export function unknownManageReason(value: unknown): string {
  return (
    `${JSON.stringify(value)} is not one of host/up, host/down, docker/up, docker/down, ignore ` +
    '(or aliases yes, host, up, down, docker, no); entry skipped'
  );
}
