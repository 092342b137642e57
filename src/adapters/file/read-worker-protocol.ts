import type { AdapterShape } from "../types.js";

export interface ReadWorkerData {
  /** The store's root with its separator (rootPrefix). */
  prefix: string;
  shape: AdapterShape;
  maxBytes: number;
  /** The served head's hash: adapters of another head are stale whatever their shape. */
  headHash?: string;
}

/** What the thread is given at start: the store's data and where it reports its progress. */
export interface ReadThreadData extends ReadWorkerData {
  /**
   * Int32Array over a SharedArrayBuffer: [PROGRESS_BATCH] the id of the batch being read,
   * [PROGRESS_INDEX] the index of the user being read in it (users.length once all are read),
   * [PROGRESS_SINCE] when that read began, in ms after `epoch` (performance.timeOrigin + now()).
   * The reader watches it to tell a read that stalls, and whose, from a batch that is long.
   */
  progress: SharedArrayBuffer;
  epoch: number;
}

export const PROGRESS_BATCH = 0;
export const PROGRESS_INDEX = 1;
export const PROGRESS_SINCE = 2;
export const PROGRESS_SLOTS = 3;

/** The header and W alone (scoring). */
export const READ_WEIGHTS = 0;
/** The whole file's bytes (get, update), decoded by the store. */
export const READ_FILE = 1;
export type ReadKind = typeof READ_WEIGHTS | typeof READ_FILE;

export interface ReadRequest {
  id: number;
  users: string[];
  /** ReadKind of each user's read. */
  kinds: Uint8Array;
}

export const READ_FOUND = 0;
export const READ_ABSENT = 1;
export const READ_FAILED = 2;

export interface ReadFailure {
  /** An AdapterErrorCode for a file that cannot be used; undefined for an I/O failure. */
  adapterCode: string | undefined;
  message: string;
  /** The errno code of an I/O failure (ENOENT, EIO, …). */
  ioCode: string | undefined;
}

/** Column-wise, so one reply of many users is a few arrays to clone rather than many objects. */
export interface ReadReply {
  id: number;
  status: Uint8Array;
  versions: Float64Array;
  headHashes: string[];
  /** k·m values per user, in request order; zeros where the user has none. */
  W: Float32Array;
  /** The file of each READ_FILE user found; null elsewhere. */
  files: (Uint8Array | null)[];
  failures: (ReadFailure | null)[];
}
