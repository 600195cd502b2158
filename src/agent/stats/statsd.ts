/**
 * statsd lines (level 10, REFERENCE 2.3) aggregated between flushes. Pure: lines in, series out.
 *
 * - `g` gauge: the value is kept across flushes so `+x`/`-x` can adjust it; it is reported in a
 *   flush only when it was set in that window (the controller keeps the last value anyway).
 * - `c` counter: summed (divided by its sample rate `|@r`), reset each flush.
 * - `ms` timer: averaged over the window. `s` set: number of distinct values. `kv`: last value.
 * The number of distinct keys is bounded. At the bound a new key takes the place of the gauge
 * set longest ago (gauges are the only keys kept across flushes, so without this a fleet of
 * one-off gauge names would block every new stat until a restart); with no gauge to give way,
 * lines for new keys are refused.
 */

export type Series = Array<[string, number]>;

type Kind = 'g' | 'c' | 'ms' | 's' | 'kv';

const LINE = /^([^:|\s][^:|]*):([^|]+)\|(g|c|ms|s|kv)(?:\|@([0-9.]+))?$/;

export class StatsAggregator {
  private readonly gauges = new Map<string, number>();
  private readonly touchedGauges = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly timers = new Map<string, { sum: number; n: number }>();
  private readonly sets = new Map<string, Set<string>>();
  private readonly kvs = new Map<string, number>();

  constructor(private readonly maxKeys = 10_000) {}

  /** Adds one `key:value|type[|@rate]` line; false if it is not one, or there is no room for it. */
  add(line: string): boolean {
    const m = LINE.exec(line.trim());
    if (!m) return false;
    const [, key, raw, kind, rateText] = m as unknown as [string, string, string, Kind, string | undefined];
    const value = Number(raw);
    if (kind !== 's' && !Number.isFinite(value)) return false;
    switch (kind) {
      case 'g':
        return this.gauge(key, /^[+-]/.test(raw) ? (this.gauges.get(key) ?? 0) + value : value);
      case 'c': {
        const rate = rateText === undefined ? 1 : Number(rateText);
        if (!(rate > 0 && rate <= 1) || !this.room(this.counters, key)) return false;
        this.counters.set(key, (this.counters.get(key) ?? 0) + value / rate);
        return true;
      }
      case 'ms': {
        if (!this.room(this.timers, key)) return false;
        const t = this.timers.get(key) ?? { sum: 0, n: 0 };
        this.timers.set(key, { sum: t.sum + value, n: t.n + 1 });
        return true;
      }
      case 's': {
        if (!this.room(this.sets, key)) return false;
        const members = this.sets.get(key) ?? new Set<string>();
        this.sets.set(key, members.add(raw));
        return true;
      }
      case 'kv':
        if (!this.room(this.kvs, key)) return false;
        this.kvs.set(key, value);
        return true;
    }
  }

  /** Sets a gauge directly (the agent's own measurements). */
  gauge(key: string, value: number): boolean {
    if (!this.room(this.gauges, key)) return false;
    // Re-inserted, so the map's order is the order gauges were last set in.
    this.gauges.delete(key);
    this.gauges.set(key, value);
    this.touchedGauges.add(key);
    return true;
  }

  /** Drops every gauge under `prefix`, e.g. a finished job's measurements. */
  forget(prefix: string): void {
    for (const key of this.gauges.keys()) {
      if (key.startsWith(prefix)) {
        this.gauges.delete(key);
        this.touchedGauges.delete(key);
      }
    }
  }

  /** The window's series, and a new window. */
  flush(): Series {
    const series: Series = [];
    for (const key of this.touchedGauges) series.push([key, this.gauges.get(key)!]);
    for (const [key, sum] of this.counters) series.push([key, sum]);
    for (const [key, t] of this.timers) series.push([key, t.sum / t.n]);
    for (const [key, members] of this.sets) series.push([key, members.size]);
    for (const [key, value] of this.kvs) series.push([key, value]);
    this.touchedGauges.clear();
    this.counters.clear();
    this.timers.clear();
    this.sets.clear();
    this.kvs.clear();
    return series;
  }

  private room(map: Map<string, unknown>, key: string): boolean {
    if (map.has(key)) return true;
    if (this.gauges.size + this.counters.size + this.timers.size + this.sets.size + this.kvs.size < this.maxKeys) return true;
    const stalest = this.gauges.keys().next();
    if (stalest.done) return false;
    this.gauges.delete(stalest.value);
    this.touchedGauges.delete(stalest.value);
    return true;
  }
}
