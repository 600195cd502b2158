/**
 * The Redis URLs `cox controller --redis` takes: `redis://[user:pass@]host:port[/db]`,
 * `rediss://…` (TLS), and `unix:///path/redis.sock[?db=N][&user=U][&password=P]` (a URL has no
 * place for credentials without a host). Apart from the client, so checking options does not
 * load it.
 */

export type RedisTarget =
  | { kind: 'tcp'; url: string; db: number }
  | { kind: 'unix'; path: string; db: number; username?: string; password?: string };

/** What the URL names, or a CONFIG-style reason it names nothing usable. */
export function parseRedisUrl(url: string): RedisTarget | { error: string } {
  const scheme = /^(rediss?|unix):\/\//.exec(url)?.[1];
  if (!scheme) return { error: 'not a redis://, rediss:// or unix:// URL' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: 'not a valid URL' };
  }
  if (scheme !== 'unix') {
    if (!parsed.hostname) return { error: 'no host' };
    const db = dbNumber(parsed.pathname.replace(/^\//, ''));
    return typeof db === 'number' ? { kind: 'tcp', url, db } : db;
  }
  if (parsed.host) return { error: 'a unix:// URL names a path, as unix:///path/redis.sock (credentials go in ?user= and ?password=)' };
  const path = decodeURIComponent(parsed.pathname);
  if (path === '/' || path === '') return { error: 'no socket path' };
  const db = dbNumber(parsed.searchParams.get('db') ?? '');
  if (typeof db !== 'number') return db;
  const username = parsed.searchParams.get('user');
  const password = parsed.searchParams.get('password');
  return { kind: 'unix', path, db, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** Redis has databases 0–15 unless configured with more; the server says which exist. */
function dbNumber(text: string): number | { error: string } {
  if (text === '') return 0;
  return /^\d{1,9}$/.test(text) ? Number(text) : { error: `database "${text}" is not a number (0, 1, 2, …)` };
}

/** The URL with its password replaced, fit for logs. */
export function maskRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@').replace(/([?&]password=)[^&#]*/, '$1***');
}
