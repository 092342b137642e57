import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A Lua script run by its sha1 (EVALSHA), sent whole (EVAL) only when the server does not know
 * it yet, e.g. after a restart.
 */
export class LuaScript {
  readonly source: string;
  readonly sha1: string;
  readonly numberOfKeys: number;

  constructor(source: string, numberOfKeys: number) {
    this.source = source;
    this.sha1 = createHash("sha1").update(source).digest("hex");
    this.numberOfKeys = numberOfKeys;
  }

  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | Buffer)[],
  ): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new TypeError(`expected ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    try {
      return await redis.evalsha(this.sha1, this.numberOfKeys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return redis.eval(this.source, this.numberOfKeys, ...keys, ...args);
    }
  }
}
