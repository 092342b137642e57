import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readWeights, readWeightsSync } from "../../src/adapters/file/weights-read.js";
import { decodeAdapterWeights, encodeAdapter } from "../../src/adapters/format.js";
import { draftFor, SHAPE } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();

async function adapterFile(): Promise<{ path: string; W: Float32Array; size: number }> {
  const adapter = {
    ...draftFor(6, { pairs: 40 }),
    user: "alice",
    version: 3,
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-01T00:00:00Z",
  };
  const dir = await tempDir();
  await mkdir(dir, { recursive: true });
  const path = join(dir, "alice.safetensors");
  const bytes = encodeAdapter(adapter);
  await writeFile(path, bytes);
  return { path, W: adapter.W, size: bytes.length };
}

describe("reading an adapter's weights", () => {
  for (const first of [16, 64, 100_000]) {
    it(`reads only the bytes the decoder asks for, starting with ${first}`, async () => {
      const { path, W, size } = await adapterFile();
      const seen: number[] = [];
      const decode = (prefix: Uint8Array, fileBytes: number) => {
        seen.push(prefix.length);
        expect(fileBytes).toBe(size);
        return decodeAdapterWeights(prefix, fileBytes, { user: "alice", shape: SHAPE });
      };
      const sync = readWeightsSync(path, decode, new Uint8Array(first));
      const syncReads = seen.splice(0);
      const pooled = await readWeights(path, decode, first);
      expect(seen).toEqual(syncReads);
      for (const weights of [sync, pooled]) expect(weights).toMatchObject({ version: 3, W });
      expect(Math.max(...syncReads)).toBeLessThan(first >= size ? size + 1 : size);
      if (first < size) expect(syncReads.length).toBeGreaterThan(1);
    });
  }

  it("answers undefined for a missing file and passes decoding errors on", async () => {
    const { path } = await adapterFile();
    const decode = (prefix: Uint8Array, fileBytes: number) =>
      decodeAdapterWeights(prefix, fileBytes, { user: "bob", shape: SHAPE });
    expect(readWeightsSync(`${path}.missing`, decode, new Uint8Array(64))).toBeUndefined();
    expect(await readWeights(`${path}.missing`, decode, 64)).toBeUndefined();
    expect(() => readWeightsSync(path, decode, new Uint8Array(64))).toThrow(/different user/);
    await expect(readWeights(path, decode, 64)).rejects.toThrow(/different user/);
  });
});
