import { describe, expect, it } from 'vitest';
import { normaliseManage } from '../../../src/site-config/manage.js';

describe('normaliseManage (REFERENCE 1.1 table)', () => {
  it.each([
    ['host/up', 'host/up'],
    ['yes', 'host/up'],
    ['host', 'host/up'],
    ['up', 'host/up'],
    [undefined, 'host/up'],
    [null, 'host/up'],
    ['host/down', 'host/down'],
    ['down', 'host/down'],
    ['docker/up', 'docker/up'],
    ['docker', 'docker/up'],
    ['docker/down', 'docker/down'],
    ['ignore', 'ignore'],
    ['no', 'ignore'],
    // PyYAML's reading of a bare yes/no.
    [true, 'host/up'],
    [false, 'ignore'],
  ])('%j → %s', (value, normal) => {
    expect(normaliseManage(value)).toBe(normal);
  });

  it.each(['sometimes', 'Up', 'docker/', 'toString', 1, ['up'], { host: 'up' }])('rejects %j', (value) => {
    expect(normaliseManage(value)).toBeUndefined();
  });
});
