import { dirname, resolve } from "node:path";
import {
  makeDirectoryDurably,
  openIfExists,
  removeFileDurably,
  writeFileDurably,
} from "../../io/durable-fs.js";
import { AdapterError, isUnreadableAdapter } from "../errors.js";
import {
  DEFAULT_MAX_ADAPTER_BYTES,
  decodeAdapter,
  decodeAdapterWeights,
  encodeAdapter,
  RECOVERY_BYTES,
  recoverIdentity,
} from "../format.js";
import { KeyedMutex } from "../keyed-mutex.js";
import { nextAdapter, type Predecessor, predecessorOfUnreadable } from "../next-adapter.js";
import { storeClosedError } from "../store-io.js";
import {
  type Adapter,
  type AdapterShape,
  type AdapterStore,
  type AdapterUpdate,
  type AdapterUpdateOptions,
  type AdapterWeights,
  NO_READ_STALLS,
  type ReadStalls,
} from "../types.js";
import { assertUserId } from "../user-id.js";
import { assertAdapterShape, assertEncodedSize, assertUpdateFunction } from "../validate.js";
import { FILE_IO } from "./file-io.js";
import { adapterPathUnder, rootPrefix } from "./paths.js";
import type { ReadStallEvent } from "./read-stall.js";
import { scanStore } from "./scan.js";
import { StoreCount } from "./store-count.js";
import { ThreadedWeightsReader } from "./threaded-weights-reader.js";
import {
  readWeights,
  readWeightsSync,
  TOO_LARGE,
  WEIGHTS_READ_BYTES,
  type WeightsDecoder,
} from "./weights-read.js";

export interface FileAdapterStoreOptions {
  root: string;
  /**
   * k×m of the head: writes of any other shape are refused, and so are reads of adapters of the
   * head's own hash (or of any adapter, without headHash) that have another.
   */
  shape: AdapterShape;
  /**
   * Hash of the head served from this store: an adapter of another head is read with its own k×m
   * (it is stale, whatever its shape), and getWeights gives it zeros for W.
   */
  headHash?: string;
  /** Largest adapter file read or written; default 16 MiB. */
  maxFileBytes?: number;
  /** Temp files older than this are removed at open even if their writer may live; default 60 s. */
  tempFileMaxAgeMs?: number;
  /**
   * How getWeights reads (scoring's path for uncached users). The server always reads "worker",
   * which measured best; the others stay for the tests and for measuring against it:
   * - "worker" (default): on a thread of the store's own, batched; the event loop sends one
   *   message per batch, and a stalled disk stalls only that thread. get() and the read of
   *   update() go through that thread too, under the same deadline.
   * - "sync": synchronous preads on the event loop: the least latency for a lone request.
   * - "threadpool": libuv's thread pool, one round trip per syscall.
   */
  weightReads?: WeightReads;
  /**
   * "worker" reads: a user's read that has not returned after this long fails with
   * STORE_STALLED for that user alone, and the other reads go on; default 2000 ms.
   */
  readTimeoutMs?: number;
  /** "worker" reads: stalls, and stuck reads that return, for logs. */
  onReadStall?: (event: ReadStallEvent) => void;
}

export type WeightReads = "worker" | "sync" | "threadpool";
export const WEIGHT_READS: readonly WeightReads[] = ["worker", "sync", "threadpool"];

/**
 * One safetensors file per user under a sha256-sharded directory tree. Every write replaces the
 * whole file atomically and durably; writes of one user run one at a time in this process.
 * Writers in other processes are not serialized with these (last rename wins), and count() only
 * follows this process's own writes after the scan that open() starts in the background.
 */
export class FileAdapterStore implements AdapterStore {
  readonly root: string;
  readonly shape: AdapterShape;
  readonly headHash: string | undefined;
  readonly maxFileBytes: number;
  readonly weightReads: WeightReads;
  #prefix: string;
  #scratch: Uint8Array | undefined;
  #reader: ThreadedWeightsReader | undefined;
  #writes = new KeyedMutex();
  #count: StoreCount;
  #stopScan: AbortController;
  #closed = false;

  private constructor(
    root: string,
    shape: AdapterShape,
    headHash: string | undefined,
    maxFileBytes: number,
    count: StoreCount,
    stopScan: AbortController,
    weightReads: WeightReads,
    options: Pick<FileAdapterStoreOptions, "readTimeoutMs" | "onReadStall">,
  ) {
    this.#stopScan = stopScan;
    this.root = root;
    this.#prefix = rootPrefix(root);
    this.shape = { k: shape.k, m: shape.m };
    this.headHash = headHash;
    this.maxFileBytes = maxFileBytes;
    this.weightReads = weightReads;
    if (weightReads === "sync") this.#scratch = new Uint8Array(WEIGHTS_READ_BYTES);
    if (weightReads === "worker") {
      this.#reader = new ThreadedWeightsReader(
        {
          prefix: this.#prefix,
          shape,
          maxBytes: maxFileBytes,
          ...(headHash === undefined ? {} : { headHash }),
        },
        {
          ...(options.readTimeoutMs === undefined ? {} : { readTimeoutMs: options.readTimeoutMs }),
          ...(options.onReadStall === undefined ? {} : { onStall: options.onReadStall }),
        },
      );
    }
    this.#count = count;
  }

  /**
   * Creates the root if needed. Removing temp files left by crashes and counting the adapters go
   * on in the background (see scanned): a store of millions of files serves reads at once, and
   * its first writes wait for the scan.
   */
  static async open(options: FileAdapterStoreOptions): Promise<FileAdapterStore> {
    const { shape } = options;
    assertAdapterShape(shape);
    const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_ADAPTER_BYTES;
    if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) {
      throw new TypeError(`expected maxFileBytes to be a positive integer, got ${maxFileBytes}`);
    }
    const root = resolve(options.root);
    await makeDirectoryDurably(root);
    const tempFileMaxAgeMs = options.tempFileMaxAgeMs ?? 60_000;
    const stopScan = new AbortController();
    const count = new StoreCount(async () => {
      const scan = await scanStore(root, { tempFileMaxAgeMs, signal: stopScan.signal });
      return scan.adapterFiles;
    });
    const { readTimeoutMs } = options;
    if (
      readTimeoutMs !== undefined &&
      (!Number.isSafeInteger(readTimeoutMs) || readTimeoutMs < 1)
    ) {
      throw new TypeError(`expected readTimeoutMs to be a positive integer, got ${readTimeoutMs}`);
    }
    const weightReads = options.weightReads ?? "worker";
    if (!WEIGHT_READS.includes(weightReads)) {
      throw new TypeError(
        `expected weightReads to be one of ${WEIGHT_READS.join(", ")}, got ${String(weightReads)}`,
      );
    }
    const { headHash } = options;
    if (headHash !== undefined && (typeof headHash !== "string" || headHash.length === 0)) {
      throw new TypeError(`expected headHash to be a non-empty string, got ${String(headHash)}`);
    }
    return new FileAdapterStore(
      root,
      shape,
      headHash,
      maxFileBytes,
      count,
      stopScan,
      weightReads,
      options,
    );
  }

  /** Settles once the start-up scan has counted the adapters and removed abandoned temp files. */
  get scanned(): Promise<void> {
    return this.#count.scanned;
  }

  async get(user: string): Promise<Adapter | undefined> {
    assertUserId(user);
    this.#assertOpen();
    return this.#read(user);
  }

  /** Reads the header and W alone: the posterior and the pair statistics stay on disk. */
  async getWeights(user: string): Promise<AdapterWeights | undefined> {
    assertUserId(user);
    this.#assertOpen();
    if (this.#reader !== undefined) return this.#reader.read(user);
    const options = this.#decodeOptions(user);
    const decode: WeightsDecoder = (prefix, fileBytes) =>
      decodeAdapterWeights(prefix, fileBytes, options);
    const path = adapterPathUnder(this.#prefix, user);
    const scratch = this.#scratch;
    // Decoding errors are the file's and say so; only I/O failures become STORE_UNAVAILABLE.
    return FILE_IO.forUser(user, "read", () =>
      scratch !== undefined
        ? readWeightsSync(path, decode, scratch)
        : readWeights(path, decode, WEIGHTS_READ_BYTES),
    );
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
      await this.#count.scanned;
      let current: Adapter | undefined;
      let previous: Predecessor | undefined;
      let existed = false;
      try {
        current = await this.#read(user);
        previous = current;
        existed = current !== undefined;
      } catch (error) {
        if (options.unreadable !== "replace" || !isUnreadableAdapter(error)) throw error;
        const prefix = await FILE_IO.forUser(user, "read", () =>
          readPrefix(adapterPathUnder(this.#prefix, user), RECOVERY_BYTES),
        );
        existed = prefix !== undefined;
        if (prefix !== undefined) previous = predecessorOfUnreadable(recoverIdentity(prefix));
      }
      const draft = await update(current);
      const next = nextAdapter(user, previous, draft, this.shape);
      const bytes = encodeAdapter(next);
      assertEncodedSize(user, bytes, this.maxFileBytes);
      const path = adapterPathUnder(this.#prefix, user);
      await FILE_IO.forUser(user, "write", async () => {
        await makeDirectoryDurably(dirname(path));
        await writeFileDurably(path, bytes);
      });
      if (!existed) this.#count.changed(1);
      return next;
    });
  }

  async delete(user: string): Promise<boolean> {
    assertUserId(user);
    this.#assertOpen();
    return this.#writes.run(user, async () => {
      await this.#count.scanned;
      const path = adapterPathUnder(this.#prefix, user);
      const removed = await FILE_IO.forUser(user, "delete", () => removeFileDurably(path));
      if (removed) this.#count.changed(-1);
      return removed;
    });
  }

  /** With "worker" reads: how reads fare against their deadline (see ThreadedWeightsReader). */
  readStalls(): ReadStalls {
    return this.#reader?.readStalls() ?? NO_READ_STALLS;
  }

  async count(): Promise<number> {
    this.#assertOpen();
    return FILE_IO.forStore("count its adapters", () => this.#count.value());
  }

  /**
   * Refuses new calls at once, then waits for the writes already queued (their reads go through
   * the reader thread, so it closes after them: a stalled one fails at its deadline).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopScan.abort();
    await this.#writes.idle();
    await this.#reader?.close();
    await this.#count.scanned;
  }

  async #read(user: string): Promise<Adapter | undefined> {
    const reader = this.#reader;
    const bytes =
      reader !== undefined
        ? await reader.readFile(user)
        : await FILE_IO.forUser(user, "read", () =>
            readBounded(adapterPathUnder(this.#prefix, user), this.maxFileBytes),
          );
    if (bytes === undefined) return undefined;
    if (bytes === TOO_LARGE) {
      throw new AdapterError(
        "ADAPTER_CORRUPT",
        `adapter of user ${user}: file is larger than the ${this.maxFileBytes} bytes allowed`,
        { user },
      );
    }
    return decodeAdapter(bytes, this.#decodeOptions(user));
  }

  #decodeOptions(user: string) {
    return {
      user,
      shape: this.shape,
      maxBytes: this.maxFileBytes,
      ...(this.headHash === undefined ? {} : { headHash: this.headHash }),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw storeClosedError();
  }
}

/** The file's first `length` bytes (fewer when it is shorter); undefined when it does not exist. */
async function readPrefix(path: string, length: number): Promise<Uint8Array | undefined> {
  const handle = await openIfExists(path);
  if (handle === undefined) return undefined;
  try {
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(bytes, filled, length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

async function readBounded(
  path: string,
  maxBytes: number,
): Promise<Uint8Array | undefined | typeof TOO_LARGE> {
  const handle = await openIfExists(path);
  if (handle === undefined) return undefined;
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return TOO_LARGE;
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === size ? bytes : bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
