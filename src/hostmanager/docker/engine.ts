/**
 * The Docker Engine as the host manager sees it: its compose containers (container-cache.ts),
 * kept current from the events stream, and the image each watched tag points to. When the stream
 * ends it is reopened, and a resync catches whatever happened in between. `reachable` turns false
 * on the first failed attempt, with the reason, and true again once a connection and its resync
 * succeeded.
 */
import { EventEmitter } from 'node:events';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ContainerCache } from './container-cache.js';
import type { ContainerView, ServiceKey } from './containers.js';
import { openEvents, type EngineEvent, type EventStream } from './event-stream.js';
import { ImageTags } from './image-tags.js';

export interface EngineEvents {
  reachability: [];
  /** A container changed; `at` is the engine's own time of the event (ms), null after a resync. */
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
  private readonly cache: ContainerCache;
  private readonly tags: ImageTags;
  private stream: EventStream | null = null;
  /** Bumped by every connection attempt: what an older attempt reports is ignored. */
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
    this.cache = new ContainerCache(docker, (view, at) => this.emit('container', view, at));
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
    return this.cache.all();
  }

  find(key: ServiceKey): ContainerView | undefined {
    return this.cache.find(key);
  }

  lookup(key: ServiceKey): Promise<ContainerView | undefined> {
    return this.cache.lookup(key);
  }

  ofService(key: ServiceKey): Promise<ContainerView[]> {
    return this.cache.ofService(key);
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

  private async connect(): Promise<void> {
    if (this.closed) return;
    const gen = ++this.generation;
    // Events that arrive during the resync are applied after it, in order.
    let buffered: EngineEvent[] | null = [];
    const connectedAt = Date.now();
    try {
      await withTimeout(this.docker.ping(), PING_TIMEOUT_MS, 'ping');
      this.stream = await openEvents(
        this.docker,
        (e) => (buffered ? buffered.push(e) : this.onEvent(e)),
        (why) => this.lost(gen, why, connectedAt),
      );
      await this.cache.resync();
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

  private onEvent(e: EngineEvent): void {
    if (e.Type === 'image') void this.refreshTags();
    else this.cache.apply(e);
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
