/**
 * A TCP proxy in front of a daemon, to cut a network path and mend it again: `cut()` drops every
 * connection and refuses new ones, `heal()` listens again on the same port. What goes through is
 * untouched, so both sides speak their real protocol.
 */
import net from 'node:net';

export interface TcpProxy {
  url: string;
  cut(): Promise<void>;
  heal(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TcpProxy> {
  const to = new URL(target);
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(to.port), to.hostname);
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    heal: () => listen(port),
    close: async () => (server.listening ? cut() : undefined),
  };
}
