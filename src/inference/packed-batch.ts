import type { TokenSeq } from "./backend.js";

/**
 * A batch of token sequences as flat typed arrays, so that posting it to the inference worker
 * transfers three buffers instead of cloning every id: `offsets[i]..offsets[i + 1]` are the
 * sequence i's positions in `ids` (and in `typeIds`, present when every sequence has them).
 */
export interface PackedBatch {
  ids: Int32Array<ArrayBuffer>;
  offsets: Int32Array<ArrayBuffer>;
  typeIds: Int32Array<ArrayBuffer> | null;
}

export function packBatch(batch: readonly TokenSeq[]): PackedBatch {
  const offsets = new Int32Array(batch.length + 1);
  for (let i = 0; i < batch.length; i++) offsets[i + 1] = offsets[i]! + batch[i]!.ids.length;
  const total = offsets[batch.length]!;
  const ids = new Int32Array(total);
  const withTypes = batch.length > 0 && batch.every((seq) => seq.typeIds !== undefined);
  const typeIds = withTypes ? new Int32Array(total) : null;
  for (let i = 0; i < batch.length; i++) {
    const seq = batch[i]!;
    ids.set(seq.ids, offsets[i]!);
    if (typeIds !== null) typeIds.set(seq.typeIds!, offsets[i]!);
  }
  return { ids, offsets, typeIds };
}

export function unpackBatch(packed: PackedBatch): TokenSeq[] {
  const { ids, offsets, typeIds } = packed;
  const batch: TokenSeq[] = new Array(offsets.length - 1);
  for (let i = 0; i < batch.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const seq: TokenSeq = { ids: Array.from(ids.subarray(start, end)) };
    if (typeIds !== null) seq.typeIds = Array.from(typeIds.subarray(start, end));
    batch[i] = seq;
  }
  return batch;
}

/** The buffers to transfer with a packed batch. */
export function packedBuffers(packed: PackedBatch): ArrayBuffer[] {
  const buffers = [packed.ids.buffer, packed.offsets.buffer];
  if (packed.typeIds !== null) buffers.push(packed.typeIds.buffer);
  return buffers;
}
