import type { AdapterShape } from "../types.js";

export interface ReadWorkerData {
  /** The store's root with its separator (rootPrefix). */
  prefix: string;
  shape: AdapterShape;
  maxBytes: number;
  /** The served head's hash: adapters of another head are stale whatever their shape. */
  headHash?: string;
}

export interface ReadRequest {
  id: number;
  users: string[];
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
  failures: (ReadFailure | null)[];
}
