/** The Docker events stream (`GET /events`): one JSON object per line, for as long as the engine runs. */
import type Docker from 'dockerode';

export interface EngineEvent {
  Type: string;
  Action: string;
  id?: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  /** When the engine saw it, in nanoseconds since the epoch. */
  timeNano: number;
}

export interface EventStream {
  close(): void;
}

/**
 * Opens the stream of container and image events. `onEnd` is called once, however the stream
 * ends (engine stopped, socket error, or `close()`), so the caller has one place to reconnect from.
 */
export async function openEvents(docker: Docker, onEvent: (e: EngineEvent) => void, onEnd: (why: string) => void): Promise<EventStream> {
  const stream = (await docker.getEvents({ filters: { type: ['container', 'image'] } })) as NodeJS.ReadableStream & { destroy(): void };
  let rest = '';
  let ended = false;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    stream.destroy();
    onEnd(why);
  };
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let event: EngineEvent;
      try {
        event = JSON.parse(line) as EngineEvent;
      } catch (err) {
        end(`unreadable event: ${(err as Error).message}`);
        return;
      }
      onEvent(event);
    }
  });
  stream.on('end', () => end('events stream ended'));
  stream.on('close', () => end('events stream closed'));
  stream.on('error', (err: Error) => end(err.message));
  return { close: () => end('closed') };
}
