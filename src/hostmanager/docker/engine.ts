/**
 * The Docker Engine as the host manager sees it: every compose container, kept current from the
 * events stream (deaths and starts are events, never polled), and the image each watched tag
 * points to. When the stream ends it is reopened, and a resync (list + inspect) catches whatever
 * happened in between. `reachable` turns false on the first failed attempt, with the reason, and
 * true again once a connection and its resync succeeded.
 */
import { EventEmitter } from 'node:events';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { belongsTo, LABEL, viewFromInspect, viewFromLabels, type ContainerView, type InspectLike, type ServiceKey } from './containers.js';
import { openEvents, type EngineEvent, type EventStream } from './event-stream.js';
import { ImageTags } from './image-tags.js';

export interface EngineEvents {
  reachability: [];
  /** A container changed; `at` is the engine's own time of the event (ms), when there was one. */
  container: [view: ContainerView, at: number | null];
  images: [];
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1_000;
/** A connection that lasted this long was not a flap: the next retry starts from the minimum again. */
const STABLE_MS = 5_000;
const PING_TIMEOUT_MS = 5_000;

export class DockerEngine extends EventEmitter<EngineEvents> {
  reachable = false;
  reason = 'connecting to the Docker Engine';
  private readonly containers = new Map<string, ContainerView>();
  private readonly tags: ImageTags;
  /** Bumped by every event about a container: an inspect answer that an event overtook is redone. */
  private readonly seq = new Map<string, number>();
  private stream: EventStream | null = null;
  private generation = 0;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly docker: Docker,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.tags = new ImageTags(docker);
  }

  /** Resolves after the first attempt to connect, whether the engine answered or not. */
  start(): Promise<void> {
    return this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stream?.close();
  }

  all(): ContainerView[] {
    return [...this.containers.values()];
  }

  /** The container of a service: the running one if any, else any other (stopped) one. */
  find(key: ServiceKey): ContainerView | undefined {
    const mine = this.all().filter((c) => belongsTo(c, key));
    return mine.find((c) => c.running) ?? mine[0];
  }

  /** Image id a tag points to now: null if no such image, undefined if not looked up yet. */
  imageIdOf(tag: string): string | null | undefined {
    return this.tags.idOf(tag);
  }

  /** Tags whose image `restart_required` compares against; new ones are looked up at once. */
  watchTags(tags: Iterable<string>): void {
    const fresh = this.tags.watch(tags);
    if (fresh.length && this.reachable) void this.refreshTags(fresh);
  }

  /** A fresh inspect, kept in the cache unless an event about the container overtook it. */
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
    const label = [`${LABEL.project}=${key.project}`, `${LABEL.service}=${key.service}`];
    const list = await this.docker.listContainers({ all: true, filters: { label } });
    const mine = (await Promise.all(list.map((c) => this.inspect(c.Id)))).filter((c): c is ContainerView => c !== null && belongsTo(c, key));
    return mine.find((c) => c.running) ?? mine[0];
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const gen = ++this.generation;
    let buffered: EngineEvent[] | null = [];
    const connectedAt = Date.now();
    try {
      await withTimeout(this.docker.ping(), PING_TIMEOUT_MS, 'ping');
      this.stream = await openEvents(
        this.docker,
        (e) => (buffered ? buffered.push(e) : this.onEvent(e)),
        (why) => this.lost(gen, why, connectedAt),
      );
      await this.resync();
      await this.refreshTags();
      if (gen !== this.generation) return;
      for (const e of buffered) this.onEvent(e);
      buffered = null;
      const was = this.reachable;
      this.reachable = true;
      this.reason = 'connected';
      if (!was) {
        this.logger.info('Docker Engine connected');
        this.emit('reachability');
      }
    } catch (err) {
      if (gen !== this.generation) return;
      // Whatever this attempt opened is no longer ours to report on.
      this.generation++;
      this.stream?.close();
      this.unreachable((err as Error).message);
    }
  }

  private lost(gen: number, why: string, connectedAt: number): void {
    if (gen !== this.generation || this.closed) return;
    this.logger.warn({ why }, 'Docker events stream lost; reconnecting');
    if (Date.now() - connectedAt >= STABLE_MS) this.retryMs = RETRY_MIN_MS;
    this.retry();
  }

  private unreachable(message: string): void {
    const reason = `Docker Engine unreachable (${message}); retrying`;
    if (this.reachable || this.reason !== reason) this.logger.warn({ why: message }, 'Docker Engine unreachable');
    const was = this.reachable;
    this.reachable = false;
    this.reason = reason;
    if (was) this.emit('reachability');
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Replaces the cache by what the engine holds now, and reports every container that changed. */
  private async resync(): Promise<void> {
    const before = [...this.containers.values()];
    const list = await this.docker.listContainers({ all: true, filters: { label: [LABEL.project] } });
    const views = await Promise.all(list.map((c) => this.inspect(c.Id)));
    const now = new Map(views.filter((v): v is ContainerView => v !== null).map((v) => [v.id, v]));
    this.containers.clear();
    for (const [id, v] of now) this.containers.set(id, v);
    for (const old of before) {
      const cur = now.get(old.id);
      if (!cur) this.emit('container', { ...old, running: false, pid: null }, null);
      else if (cur.running !== old.running || cur.startedAt !== old.startedAt) this.emit('container', cur, null);
    }
  }

  private onEvent(e: EngineEvent): void {
    if (e.Type === 'image') {
      void this.refreshTags();
      return;
    }
    const id = e.id ?? e.Actor.ID;
    const attrs = e.Actor.Attributes;
    const known = this.containers.get(id) ?? viewFromLabels(id, attrs.name ?? id, attrs.image ?? '', attrs);
    if (!known) return;
    this.seq.set(id, (this.seq.get(id) ?? 0) + 1);
    const at = e.timeNano / 1e6;
    if (e.Action === 'start') {
      this.update({ ...known, running: true, exitCode: null }, at);
      // The pid and image id are not in the event; the cache gets them a moment later.
      void this.inspect(id).catch(() => undefined);
    } else if (e.Action === 'die') {
      this.update({ ...known, running: false, pid: null, exitCode: attrs.exitCode === undefined ? null : Number(attrs.exitCode) }, at);
    } else if (e.Action === 'destroy') {
      this.containers.delete(id);
      this.seq.delete(id);
      this.emit('container', { ...known, running: false, pid: null }, at);
    } else if (e.Action === 'create' || e.Action === 'rename') {
      this.update(known, at);
      void this.inspect(id).catch(() => undefined);
    }
  }

  private update(view: ContainerView, at: number): void {
    this.containers.set(view.id, view);
    this.emit('container', view, at);
  }

  private async refreshTags(tags?: string[]): Promise<void> {
    if (await this.tags.refresh(tags)) this.emit('images');
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
