/**
 * The Redis URLs `cox controller --redis` takes: `redis://[user:pass@]host:port[/db]`,
 * `rediss://…` (TLS), and `unix:///path/redis.sock[?db=N]`. Apart from the client, so checking
 * options does not load it.
 */
export function isRedisUrl(url: string): boolean {
  return /^(rediss?|unix):\/\/./.test(url);
}

/** The URL with its password replaced, fit for logs. */
export function maskRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
