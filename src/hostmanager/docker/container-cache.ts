/**
 * Every compose container the engine holds, as the host manager last heard of it: filled by a
 * resync (list + inspect) and kept current by the engine's events, never by polling. An inspect
 * answer that an event about the same container overtook is asked for again, so a late answer
 * never undoes a death.
 */
import type Docker from 'dockerode';
import { belongsTo, LABEL, viewFromInspect, viewFromLabels, type ContainerView, type InspectLike, type ServiceKey } from './containers.js';
import type { EngineEvent } from './event-stream.js';

/** A container changed; `at` is the engine's own time of the event (ms), null after a resync. */
export type ContainerChange = (view: ContainerView, at: number | null) => void;

export class ContainerCache {
  private readonly containers = new Map<string, ContainerView>();
  /** Bumped by every event about a container. */
  private readonly seq = new Map<string, number>();

  constructor(
    private readonly docker: Docker,
    private readonly changed: ContainerChange,
  ) {}

  all(): ContainerView[] {
    return [...this.containers.values()];
  }

  /** The container of a service: the running one if any, else any other (stopped) one. */
  find(key: ServiceKey): ContainerView | undefined {
    const mine = this.all().filter((c) => belongsTo(c, key));
    return mine.find((c) => c.running) ?? mine[0];
  }

  /** A fresh inspect, kept in the cache unless events keep overtaking it. */
  async inspect(id: string): Promise<ContainerView | null> {
    for (let attempt = 0; ; attempt++) {
      const before = this.seq.get(id) ?? 0;
      let view: ContainerView | null;
      try {
        view = viewFromInspect((await this.docker.getContainer(id).inspect()) as InspectLike);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      }
      if ((this.seq.get(id) ?? 0) === before || attempt >= 3) {
        if (view) this.containers.set(id, view);
        return view;
      }
    }
  }

  /** Asks the engine (not the cache) for the service's container: the running one if any. */
  async lookup(key: ServiceKey): Promise<ContainerView | undefined> {
    const mine = (await this.ofService(key)).filter((c) => belongsTo(c, key));
    return mine.find((c) => c.running) ?? mine[0];
  }

  /** Asks the engine for every container of the service's project and name, whatever compose file made it. */
  async ofService(key: ServiceKey): Promise<ContainerView[]> {
    const label = [`${LABEL.project}=${key.project}`, `${LABEL.service}=${key.service}`];
    const list = await this.docker.listContainers({ all: true, filters: { label } });
    return (await Promise.all(list.map((c) => this.inspect(c.Id)))).filter((c): c is ContainerView => c !== null);
  }

  /** Replaces the cache by what the engine holds now, and reports every container that changed. */
  async resync(): Promise<void> {
    const before = this.all();
    const list = await this.docker.listContainers({ all: true, filters: { label: [LABEL.project] } });
    const views = await Promise.all(list.map((c) => this.inspect(c.Id)));
    const now = new Map(views.filter((v): v is ContainerView => v !== null).map((v) => [v.id, v]));
    this.containers.clear();
    for (const [id, v] of now) this.containers.set(id, v);
    for (const old of before) {
      const cur = now.get(old.id);
      if (!cur) this.changed({ ...old, running: false, pid: null }, null);
      else if (cur.running !== old.running || cur.startedAt !== old.startedAt) this.changed(cur, null);
    }
  }

  apply(e: EngineEvent): void {
    const id = e.id ?? e.Actor.ID;
    const attrs = e.Actor.Attributes;
    const known = this.containers.get(id) ?? viewFromLabels(id, attrs.name ?? id, attrs.image ?? '', attrs);
    if (!known) return;
    this.seq.set(id, (this.seq.get(id) ?? 0) + 1);
    const at = e.timeNano / 1e6;
    if (e.Action === 'start') {
      this.set({ ...known, running: true, exitCode: null }, at);
      // The pid and image id are not in the event; the cache gets them a moment later.
      void this.inspect(id).catch(() => undefined);
    } else if (e.Action === 'die') {
      this.set({ ...known, running: false, pid: null, exitCode: attrs.exitCode === undefined ? null : Number(attrs.exitCode) }, at);
    } else if (e.Action === 'destroy') {
      this.containers.delete(id);
      this.seq.delete(id);
      this.changed({ ...known, running: false, pid: null }, at);
    } else if (e.Action === 'create' || e.Action === 'rename') {
      this.set(known, at);
      void this.inspect(id).catch(() => undefined);
    }
  }

  private set(view: ContainerView, at: number): void {
    this.containers.set(view.id, view);
    this.changed(view, at);
  }
}
