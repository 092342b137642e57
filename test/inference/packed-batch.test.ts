import { describe, expect, it } from "vitest";
import { packBatch, packedBuffers, unpackBatch } from "../../src/inference/packed-batch.js";

describe("packed batches for the inference worker", () => {
  it("round-trips ids and segment ids, empty sequences included", () => {
    const batch = [
      { ids: [5, 6, 7], typeIds: [0, 0, 1] },
      { ids: [], typeIds: [] },
      { ids: [128000, 9906, 1917], typeIds: [0, 1, 1] },
    ];
    const packed = packBatch(batch);
    expect(Array.from(packed.offsets)).toEqual([0, 3, 3, 6]);
    expect(packedBuffers(packed)).toHaveLength(3);
    expect(unpackBatch(packed)).toEqual(batch);
  });

  it("drops segment ids unless every sequence has them, and survives a transfer", () => {
    const packed = packBatch([{ ids: [1, 2] }, { ids: [3], typeIds: [0] }]);
    expect(packed.typeIds).toBeNull();
    const moved = structuredClone(packed, { transfer: packedBuffers(packed) });
    expect(packed.ids.byteLength).toBe(0);
    expect(unpackBatch(moved)).toEqual([{ ids: [1, 2] }, { ids: [3] }]);
  });
});
