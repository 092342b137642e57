import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { TextFeatures } from "./backend.js";

export interface CachedFeatures extends TextFeatures {
  truncated: boolean;
  /** Tokens the text took in the backbone. */
  tokens: number;
}

/** Measured heap per entry beyond the projection and the key (object, Map and LRU slots). */
const ENTRY_OVERHEAD_BYTES = 320;

/**
 * Per-text base reward and projection, keyed by head hash and rendered text. Keys are hashed so a
 * long text costs 64 bytes of key, and the cache is bounded in bytes, not entries.
 */
export class FeatureCache {
  readonly #cache: LRUCache<string, CachedFeatures> | undefined;
  readonly #headHash: string;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number, headHash: string) {
    this.#headHash = headHash;
    this.#cache =
      maxBytes > 0
        ? new LRUCache<string, CachedFeatures>({
            maxSize: maxBytes,
            sizeCalculation: (value, key) =>
              value.proj.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES,
          })
        : undefined;
  }

  key(prompt: string, response: string): string {
    return createHash("sha256")
      .update(this.#headHash)
      .update("\u0000")
      .update(prompt)
      .update("\u0001")
      .update(response)
      .digest("base64url");
  }

  get(key: string): CachedFeatures | undefined {
    const value = this.#cache?.get(key);
    if (value === undefined) this.misses += 1;
    else this.hits += 1;
    return value;
  }

  set(key: string, value: CachedFeatures): void {
    this.#cache?.set(key, value);
  }

  get entries(): number {
    return this.#cache?.size ?? 0;
  }

  get bytes(): number {
    return this.#cache?.calculatedSize ?? 0;
  }

  clear(): void {
    this.#cache?.clear();
  }
}
