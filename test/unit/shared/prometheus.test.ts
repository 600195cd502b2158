import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../../src/shared/prometheus.js';

describe('Prometheus text exposition 0.0.4', () => {
  it('renders HELP and TYPE before the samples of each metric, labels in the order given', () => {
    const text = renderPrometheus([
      { name: 'coxswain_child_up', help: 'Whether the child runs.', type: 'gauge', samples: [
        { labels: { instance_id: 'a', agent_class: 'Sleeper' }, value: 1 },
        { labels: { instance_id: 'b', agent_class: 'Sleeper' }, value: 0 },
      ] },
      { name: 'coxswain_child_crashes_total', help: 'Unexpected exits.', type: 'counter', samples: [{ value: 3 }] },
      { name: 'coxswain_child_stability', help: 'Share of the window.', type: 'gauge', samples: [{ labels: {}, value: 0.25 }] },
    ]);
    expect(text).toBe(
      [
        '# HELP coxswain_child_up Whether the child runs.',
        '# TYPE coxswain_child_up gauge',
        'coxswain_child_up{instance_id="a",agent_class="Sleeper"} 1',
        'coxswain_child_up{instance_id="b",agent_class="Sleeper"} 0',
        '# HELP coxswain_child_crashes_total Unexpected exits.',
        '# TYPE coxswain_child_crashes_total counter',
        'coxswain_child_crashes_total 3',
        '# HELP coxswain_child_stability Share of the window.',
        '# TYPE coxswain_child_stability gauge',
        'coxswain_child_stability 0.25',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and newline in label values, and backslash and newline in help', () => {
    const text = renderPrometheus([
      { name: 'm', help: 'a \\ b\nc "d"', type: 'gauge', samples: [{ labels: { file: 'C:\\site "x"\nnext' }, value: 1 }] },
    ]);
    expect(text).toBe('# HELP m a \\\\ b\\nc "d"\n# TYPE m gauge\nm{file="C:\\\\site \\"x\\"\\nnext"} 1\n');
  });

  it('keeps a metric with no samples, and writes the special values as Prometheus spells them', () => {
    const text = renderPrometheus([
      { name: 'empty', help: 'h', type: 'gauge', samples: [] },
      { name: 'odd', help: 'h', type: 'gauge', samples: [{ value: NaN }, { value: Infinity }, { value: -Infinity }, { value: -2.5 }] },
    ]);
    expect(text).toBe('# HELP empty h\n# TYPE empty gauge\n# HELP odd h\n# TYPE odd gauge\nodd NaN\nodd +Inf\nodd -Inf\nodd -2.5\n');
    expect(renderPrometheus([])).toBe('');
  });
});
