/**
 * The Prometheus text exposition format, version 0.0.4, for the few gauges and counters the
 * daemons expose: a pure renderer, so each daemon only gathers numbers and names them.
 */

/** What a scraper must be answered with for it to parse the body as this format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

export interface Metric {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; a counter's ends in `_total`. */
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /**
   * One per label set. None still renders HELP and TYPE, so the metric is known to exist even
   * while it has nothing to count (no node has a queue).
   */
  samples: readonly Sample[];
}

/** The exposition of `metrics`, in the order given, ending with a newline. */
export function renderPrometheus(metrics: readonly Metric[]): string {
  const lines: string[] = [];
  for (const m of metrics) {
    lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) lines.push(`${m.name}${renderLabels(s.labels)} ${renderValue(s.value)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function renderLabels(labels: Labels | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

// Help text escapes only backslash and newline; a label value also escapes the double quote.
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (text: string): string => escapeHelp(text).replace(/"/g, '\\"');

function renderValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
