import type { PackedBatch } from "./packed-batch.js";

export interface SerializedError {
  message: string;
  code: string | undefined;
  name: string;
}

export type WorkerRequest = { type: "embed"; id: number; batch: PackedBatch } | { type: "dispose" };

export interface EmbeddedReply {
  type: "embedded";
  id: number;
  base: Float32Array;
  proj: Float32Array;
  seconds: number;
}

export type WorkerReply =
  | { type: "ready"; provider: string }
  | { type: "failed"; error: SerializedError }
  | { type: "log"; message: string }
  | EmbeddedReply
  | { type: "embed-failed"; id: number; error: SerializedError }
  | { type: "disposed" };
