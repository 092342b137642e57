import { userHash } from "../user-hash.js";

export const DEFAULT_REDIS_PREFIX = "sharelora:";
const MAX_PREFIX_CHARS = 128;

/** Every key and channel one store uses; replicas sharing adapters must share the prefix. */
export interface RedisKeys {
  readonly prefix: string;
  /** Hash of the user's record: fields `version` and `adapter`; keyed by sha256(user). */
  adapter(user: string): string;
  /** Number of adapter records, kept by the same scripts that create and delete them. */
  readonly count: string;
  /** Pub/sub channel of invalidations. */
  readonly invalidations: string;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  if (typeof prefix !== "string" || prefix.length > MAX_PREFIX_CHARS || /\s/.test(prefix)) {
    throw new TypeError(
      `expected a Redis key prefix of at most ${MAX_PREFIX_CHARS} characters without spaces, got ${JSON.stringify(prefix)}`,
    );
  }
  return {
    prefix,
    adapter: (user) => `${prefix}adapter:${userHash(user)}`,
    count: `${prefix}adapters:count`,
    invalidations: `${prefix}adapters:invalidations`,
  };
}
