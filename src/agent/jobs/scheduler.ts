/**
 * Which waiting jobs may start (REFERENCE 2.2): at most `maxJobs` run at once, and jobs sharing a
 * non-empty `queue` run one after another. Otherwise first come, first served — a job held back
 * by its busy queue does not hold back the jobs behind it. Pure bookkeeping, no timers.
 */

interface Waiting<K> {
  key: K;
  queue: string;
}

export class Scheduler<K> {
  private readonly waiting: Waiting<K>[] = [];
  private readonly busyQueues = new Set<string>();
  private active = 0;

  constructor(private readonly maxJobs: number) {}

  enqueue(key: K, queue: string): void {
    this.waiting.push({ key, queue });
  }

  /** Takes a job that has not started out of the line; false if it is not waiting. */
  remove(key: K): boolean {
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i === -1) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** The jobs that start now, in order; each holds its slot (and queue) until `done`. */
  take(): K[] {
    const started: K[] = [];
    for (let i = 0; i < this.waiting.length && this.active < this.maxJobs; ) {
      const w = this.waiting[i]!;
      if (w.queue !== '' && this.busyQueues.has(w.queue)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      if (w.queue !== '') this.busyQueues.add(w.queue);
      this.active++;
      started.push(w.key);
    }
    return started;
  }

  /** A job that `take` started has ended; its slot and queue are free. */
  done(queue: string): void {
    this.active--;
    this.busyQueues.delete(queue);
  }
}
