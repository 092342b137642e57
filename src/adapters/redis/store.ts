import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { AdapterError, isUnreadableAdapter } from "../errors.js";
import {
  DEFAULT_MAX_ADAPTER_BYTES,
  decodeAdapter,
  encodeAdapter,
  recoverIdentity,
} from "../format.js";
import { KeyedMutex } from "../keyed-mutex.js";
import { nextAdapter, type Predecessor, predecessorOfUnreadable } from "../next-adapter.js";
import { storeClosedError } from "../store-io.js";
import type {
  Adapter,
  AdapterShape,
  AdapterStore,
  AdapterUpdate,
  AdapterUpdateOptions,
} from "../types.js";
import { assertUserId } from "../user-id.js";
import { assertAdapterShape, assertEncodedSize, assertUpdateFunction } from "../validate.js";
import {
  DEFAULT_REDIS_TIMINGS,
  failFastOptions,
  type RedisConnectionTimings,
} from "./connection-options.js";
import { InvalidationFeed } from "./invalidation-feed.js";
import { encodeInvalidation } from "./invalidation-message.js";
import { type RedisKeys, redisKeys } from "./keys.js";
import { REDIS_IO, redisFailureReason } from "./redis-errors.js";
import { parseRedisUrl } from "./redis-url.js";
import { DELETE_RECORD, REPLACE_DAMAGED, WRITE_IF_VERSION } from "./scripts.js";

export interface RedisAdapterStoreOptions {
  /** `redis://[user:password@]host:port/db[?prefix=p]`, or rediss:// for TLS. */
  url: string;
  /**
   * k×m of the head: writes of any other shape are refused, and so are reads of adapters of the
   * head's own hash (or of any adapter, without headHash) that have another.
   */
  shape: AdapterShape;
  /** Hash of the head served from this store: an adapter of another head is read with its own k×m. */
  headHash?: string;
  /** Key prefix, shared by every replica of one deployment; default the URL's, else "sharelora:". */
  prefix?: string;
  /** Largest adapter read or written; default 16 MiB. */
  maxAdapterBytes?: number;
  timings?: Partial<RedisConnectionTimings>;
  /** Tries of one update that keeps losing races with other processes' updates; default 64. */
  maxUpdateAttempts?: number;
  /** Connection errors, for logs; ioredis reports each failed reconnection attempt. */
  onConnectionError?: (error: Error) => void;
}

/**
 * Adapters in Redis, shared by every replica: one hash per user under sha256(user) holding the
 * version and the safetensors bytes. Updates are compare-and-set on the version, retried when
 * another process won the race, so `update` callbacks may run more than once and must not have
 * side effects; within this process a user's writes still run one at a time. Every write
 * publishes an invalidation in the same atomic step; `subscribe` delivers other processes' ones.
 * While Redis is unreachable every call fails at once with STORE_UNAVAILABLE and `healthy()` is
 * false; ioredis reconnects on its own, and `subscribeResync` listeners hear when invalidations
 * flow again (those published meanwhile are lost).
 */
export class RedisAdapterStore implements AdapterStore {
  readonly shape: AdapterShape;
  readonly headHash: string | undefined;
  readonly maxAdapterBytes: number;
  readonly maxUpdateAttempts: number;
  /** Where the store is, without credentials. */
  readonly location: string;
  readonly #client: Redis;
  readonly #feed: InvalidationFeed;
  readonly #keys: RedisKeys;
  readonly #origin = randomUUID();
  readonly #writes = new KeyedMutex();
  readonly #resyncListeners = new Set<() => void>();
  #resyncPending = false;
  #closed = false;

  private constructor(options: RedisAdapterStoreOptions) {
    assertAdapterShape(options.shape);
    const maxAdapterBytes = options.maxAdapterBytes ?? DEFAULT_MAX_ADAPTER_BYTES;
    assertPositiveInteger(maxAdapterBytes, "maxAdapterBytes");
    const maxUpdateAttempts = options.maxUpdateAttempts ?? 64;
    assertPositiveInteger(maxUpdateAttempts, "maxUpdateAttempts");
    const location = parseRedisUrl(options.url);
    this.shape = { k: options.shape.k, m: options.shape.m };
    const { headHash } = options;
    if (headHash !== undefined && (typeof headHash !== "string" || headHash.length === 0)) {
      throw new TypeError(`expected headHash to be a non-empty string, got ${String(headHash)}`);
    }
    this.headHash = headHash;
    this.maxAdapterBytes = maxAdapterBytes;
    this.maxUpdateAttempts = maxUpdateAttempts;
    this.location = location.display;
    this.#keys = redisKeys(options.prefix ?? location.prefix);
    const connectionOptions = failFastOptions({ ...DEFAULT_REDIS_TIMINGS, ...options.timings });
    this.#client = new Redis(location.url, { ...connectionOptions, connectionName: "sharelora" });
    const subscriber = this.#client.duplicate({ connectionName: "sharelora-invalidations" });
    const onError = (error: Error) => options.onConnectionError?.(error);
    this.#client.on("error", onError);
    subscriber.on("error", onError);
    this.#feed = new InvalidationFeed({
      connection: subscriber,
      channel: this.#keys.invalidations,
      origin: this.#origin,
      onResubscribed: () => this.#resyncWhenReady(),
    });
  }

  /** Connects both connections (commands, invalidations); rejects when Redis is unreachable. */
  static async open(options: RedisAdapterStoreOptions): Promise<RedisAdapterStore> {
    const store = new RedisAdapterStore(options);
    try {
      await store.#client.connect();
      await store.#feed.start();
    } catch (error) {
      store.#disconnect();
      throw new AdapterError(
        "STORE_UNAVAILABLE",
        `could not connect to the Redis adapter store at ${store.location}: ${redisFailureReason(error)}`,
        { cause: error },
      );
    }
    return store;
  }

  get prefix(): string {
    return this.#keys.prefix;
  }

  async get(user: string): Promise<Adapter | undefined> {
    assertUserId(user);
    this.#assertOpen();
    return (await this.#read(user))?.adapter;
  }

  async update(
    user: string,
    update: AdapterUpdate,
    options: AdapterUpdateOptions = {},
  ): Promise<Adapter> {
    assertUserId(user);
    this.#assertOpen();
    assertUpdateFunction(update);
    return this.#writes.run(user, async () => {
      for (let attempt = 1; ; attempt++) {
        let current: Adapter | undefined;
        let damaged: Damaged | undefined;
        try {
          current = (await this.#read(user))?.adapter;
        } catch (error) {
          if (options.unreadable !== "replace" || !isUnreadableAdapter(error)) throw error;
          damaged = await this.#damaged(user);
          // Another replica repaired it between the two reads: start over on its adapter.
          if (damaged === undefined) continue;
        }
        const previous: Predecessor | undefined = damaged?.previous ?? current;
        const next = nextAdapter(user, previous, await update(current), this.shape);
        const bytes = encodeAdapter(next);
        assertEncodedSize(user, bytes, this.maxAdapterBytes);
        const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const message = encodeInvalidation(this.#origin, user);
        const written = await REDIS_IO.forUser(user, "write", () =>
          damaged === undefined
            ? WRITE_IF_VERSION.run(
                this.#client,
                [this.#keys.adapter(user), this.#keys.count],
                [
                  String(current?.version ?? 0),
                  String(next.version),
                  payload,
                  this.#keys.invalidations,
                  message,
                ],
              )
            : REPLACE_DAMAGED.run(
                this.#client,
                [this.#keys.adapter(user)],
                [damaged.seen, String(next.version), payload, this.#keys.invalidations, message],
              ),
        );
        if (written === 1) return next;
        if (attempt >= this.maxUpdateAttempts) {
          throw new AdapterError(
            "STORE_UNAVAILABLE",
            `adapter of user ${user} kept changing during ${attempt} update attempts; try again`,
            { user },
          );
        }
        await sleep(Math.random() * 2 ** Math.min(attempt, 7));
      }
    });
  }

  async delete(user: string): Promise<boolean> {
    assertUserId(user);
    this.#assertOpen();
    return this.#writes.run(user, async () => {
      const removed = await REDIS_IO.forUser(user, "delete", () =>
        DELETE_RECORD.run(
          this.#client,
          [this.#keys.adapter(user), this.#keys.count],
          [this.#keys.invalidations, encodeInvalidation(this.#origin, user)],
        ),
      );
      return removed === 1;
    });
  }

  async count(): Promise<number> {
    this.#assertOpen();
    const text = await REDIS_IO.forStore("count the adapters", () =>
      this.#client.get(this.#keys.count),
    );
    const count = Number(text ?? 0);
    return Number.isSafeInteger(count) && count > 0 ? count : 0;
  }

  subscribe(listener: (user: string) => void): () => void {
    return this.#feed.listen(listener);
  }

  subscribeResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => {
      this.#resyncListeners.delete(listener);
    };
  }

  healthy(): boolean {
    return !this.#closed && this.#client.status === "ready" && this.#feed.subscribed;
  }

  /** Refuses new calls at once, waits for the writes already queued, then disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.idle();
    this.#resyncListeners.clear();
    try {
      await this.#client.quit();
    } catch {
      // Already disconnected: nothing to say goodbye to.
    }
    this.#disconnect();
  }

  async #read(user: string): Promise<{ adapter: Adapter } | undefined> {
    const [version, bytes] = await REDIS_IO.forUser(user, "read", () =>
      this.#client.hmgetBuffer(this.#keys.adapter(user), "version", "adapter"),
    );
    if (version == null && bytes == null) return undefined;
    const corrupt = (detail: string) =>
      new AdapterError("ADAPTER_CORRUPT", `adapter of user ${user}: ${detail}`, { user });
    if (version == null || bytes == null) throw corrupt("the stored record is incomplete");
    const adapter = decodeAdapter(bytes, {
      user,
      shape: this.shape,
      maxBytes: this.maxAdapterBytes,
      ...(this.headHash === undefined ? {} : { headHash: this.headHash }),
    });
    if (String(adapter.version) !== version.toString("latin1")) {
      throw corrupt("the stored version disagrees with the stored adapter");
    }
    return { adapter };
  }

  /**
   * What an undecodable record still shows: how it reads for REPLACE_DAMAGED's compare-and-set,
   * and the version to follow, the highest of its `version` field and its header's; undefined
   * when the record read now is whole (another replica replaced it since the failed read).
   */
  async #damaged(user: string): Promise<Damaged | undefined> {
    const key = this.#keys.adapter(user);
    const kind = await REDIS_IO.forUser(user, "read", () => this.#client.type(key));
    if (kind !== "hash") {
      return {
        seen: `type:${kind}`,
        previous: predecessorOfUnreadable({ version: undefined, createdAt: undefined }),
      };
    }
    const [field, bytes] = await REDIS_IO.forUser(user, "read", () =>
      this.#client.hmgetBuffer(key, "version", "adapter"),
    );
    const seen = field?.toString("latin1") ?? "";
    if (
      await this.#read(user).then(
        (whole) => whole !== undefined && String(whole.adapter.version) === seen,
        () => false,
      )
    ) {
      return undefined;
    }
    const recovered =
      bytes == null ? { version: undefined, createdAt: undefined } : recoverIdentity(bytes);
    const fieldVersion = /^[1-9][0-9]{0,15}$/.test(seen) ? Number(seen) : undefined;
    const versions = [fieldVersion, recovered.version].filter(
      (v): v is number => v !== undefined && Number.isSafeInteger(v),
    );
    const version = versions.length === 0 ? undefined : Math.max(...versions);
    return { seen, previous: predecessorOfUnreadable({ version, createdAt: recovered.createdAt }) };
  }

  /** Invalidations flow again; the commands connection must be back too before caches reload. */
  #resyncWhenReady(): void {
    if (this.#resyncPending || this.#closed) return;
    const resync = () => {
      this.#resyncPending = false;
      if (this.#closed) return;
      for (const listener of this.#resyncListeners) listener();
    };
    if (this.#client.status === "ready") {
      resync();
      return;
    }
    this.#resyncPending = true;
    this.#client.once("ready", resync);
  }

  #disconnect(): void {
    this.#feed.close();
    this.#client.disconnect();
  }

  #assertOpen(): void {
    if (this.#closed) throw storeClosedError();
  }
}

/** An undecodable record: how it read, and what the version replacing it follows. */
interface Damaged {
  seen: string;
  previous: Predecessor;
}

function assertPositiveInteger(value: unknown, name: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new TypeError(`expected ${name} to be a positive integer, got ${String(value)}`);
  }
}
