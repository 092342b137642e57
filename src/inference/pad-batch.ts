import type { TokenSeq } from "./backend.js";

export interface PaddedBatch {
  dims: [number, number];
  inputIds: BigInt64Array;
  mask: BigInt64Array;
  /** attention_mask cumsum − 1, and 1 at padded positions, as transformers builds them. */
  positionIds?: BigInt64Array;
  typeIds?: BigInt64Array;
}

/**
 * Token sequences as one [batch, longest] block. Padded positions hold `padId` (any id will do: the
 * mask hides them) and mask 0; "left" puts the padding before each sequence instead of after it.
 */
export function padBatch(
  batch: readonly TokenSeq[],
  padId: number,
  side: "right" | "left",
  wants: { positions: boolean; types: boolean },
): PaddedBatch {
  const n = batch.length;
  let length = 0;
  for (const seq of batch) length = Math.max(length, seq.ids.length);
  const inputIds = new BigInt64Array(n * length).fill(BigInt(padId));
  const mask = new BigInt64Array(n * length);
  const positionIds = wants.positions ? new BigInt64Array(n * length).fill(1n) : undefined;
  const typeIds = wants.types ? new BigInt64Array(n * length) : undefined;
  for (let b = 0; b < n; b++) {
    const { ids, typeIds: types } = batch[b]!;
    const offset = b * length + (side === "left" ? length - ids.length : 0);
    for (let t = 0; t < ids.length; t++) {
      inputIds[offset + t] = BigInt(ids[t]!);
      mask[offset + t] = 1n;
      if (positionIds) positionIds[offset + t] = BigInt(t);
      if (typeIds && types) typeIds[offset + t] = BigInt(types[t]!);
    }
  }
  const padded: PaddedBatch = { dims: [n, length], inputIds, mask };
  if (positionIds) padded.positionIds = positionIds;
  if (typeIds) padded.typeIds = typeIds;
  return padded;
}
