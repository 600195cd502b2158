import { describe, expect, it } from 'vitest';
import { classOf } from '../../../src/hostmanager/http/metrics-routes.js';

describe('classOf (the agent_class and kind labels)', () => {
  it.each([
    ['FakeThermometerAgent', { agent_class: 'FakeThermometerAgent', kind: 'native' }],
    ['FakeDockerAgent[d]', { agent_class: 'FakeDockerAgent', kind: 'docker' }],
    ['FakeDockerAgent[d?]', { agent_class: 'FakeDockerAgent', kind: 'docker' }],
    ['[docker]', { agent_class: '', kind: 'docker' }],
  ])('%s', (shown, labels) => {
    expect(classOf(shown)).toEqual(labels);
  });
});
