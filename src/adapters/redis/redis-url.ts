export interface RedisLocation {
  /** What ioredis connects to: the URL without sharelora's own query parameters. */
  url: string;
  /** Key prefix from `?prefix=`, when the URL has one. */
  prefix: string | undefined;
  /** scheme://host:port/db, without credentials: safe to log and to put in error messages. */
  display: string;
}

/** `redis://[user:password@]host:port/db[?prefix=p]`, or rediss:// for TLS. */
export function parseRedisUrl(spec: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new TypeError("expected a Redis URL like redis://host:6379/0");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(`expected a redis:// or rediss:// URL, got ${url.protocol}//`);
  }
  if (url.hostname === "") throw new TypeError("expected a Redis URL with a host");
  if (!/^\/?(\d{1,2})?$/.test(url.pathname)) {
    throw new TypeError(
      `expected the Redis URL's path to be a database number, got ${url.pathname}`,
    );
  }
  const prefix = url.searchParams.get("prefix") ?? undefined;
  url.searchParams.delete("prefix");
  return {
    url: url.toString(),
    prefix,
    display: `${url.protocol}//${url.host}${url.pathname}`,
  };
}
