import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  computeHeadHash,
  HEAD_FILE,
  type Head,
  readHead,
  seededHead,
  writeHead,
} from "../../src/model/head-file.js";
import { encodeSafetensors, type Tensor } from "../../src/model/safetensors.js";

const DEFAULT_HEAD_DIR = join(import.meta.dirname, "..", "..", "models", "default", "head");

let root: string;
let counter = 0;
const freshDir = () => join(root, `head-${counter++}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sharelora-head-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const small = (seed = 7): Head => seededHead({ d: 4, m: 2, k: 3, seed, modelId: "test-model" });

function rawTensors(head: Head): Record<string, Tensor> {
  return {
    theta0: { dtype: "F32", shape: [head.d, head.m], data: head.theta0 },
    b0: { dtype: "F32", shape: [1], data: new Float32Array([head.b0]) },
    B: { dtype: "F32", shape: [head.d, head.k], data: head.B },
  };
}

function rawMetadata(head: Head): Record<string, string> {
  return {
    format: "sharelora-head",
    version: "1",
    d: String(head.d),
    m: String(head.m),
    k: String(head.k),
    model_id: head.modelId,
    hash: head.hash,
  };
}

async function writeRaw(tensors: Record<string, Tensor>, metadata: Record<string, string>) {
  const dir = freshDir();
  await writeHead(dir, small());
  await writeFile(join(dir, HEAD_FILE), encodeSafetensors(tensors, metadata));
  return dir;
}

async function readError(dir: string): Promise<{ code: string; message: string }> {
  try {
    await readHead(dir);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error("expected readHead to fail");
}

describe("seededHead", () => {
  it("is deterministic and follows mulberry32", () => {
    const a = seededHead({ d: 8, m: 2, k: 4, seed: 1, modelId: "x" });
    const b = seededHead({ d: 8, m: 2, k: 4, seed: 1, modelId: "x" });
    expect(b).toEqual(a);
    // mulberry32(1) first draws 0.6270739405881613 (a published value); theta0 = U(-1,1)/√(d·m).
    expect(a.theta0[0]).toBe(Math.fround((2 * 0.6270739405881613 - 1) / Math.sqrt(16)));
    const other = seededHead({ d: 8, m: 2, k: 4, seed: 2, modelId: "x" });
    expect(other.hash).not.toBe(a.hash);
    expect(other.theta0).not.toEqual(a.theta0);
  });

  it("draws values within the documented ranges", () => {
    const head = seededHead({ d: 64, m: 2, k: 8, seed: 3, modelId: "x" });
    expect(head.theta0).toHaveLength(128);
    expect(head.B).toHaveLength(512);
    expect(Math.max(...head.theta0.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(Math.max(...head.B.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(64));
    expect(Math.abs(head.b0)).toBeLessThanOrEqual(0.1);
    expect(new Set(head.B).size).toBeGreaterThan(500);
    expect(head.prior).toBeUndefined();
  });

  it("adds an isotropic prior when asked", () => {
    const head = seededHead({ d: 4, m: 2, k: 3, seed: 1, modelId: "x", priorVariance: 2 });
    const p = 6;
    expect(head.prior!.mean).toEqual(new Float64Array(p));
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) expect(head.prior!.cov[i * p + j]).toBe(i === j ? 2 : 0);
    }
    expect(head.hash).toBe(computeHeadHash(head));
  });

  it("rejects bad dimensions and seeds", () => {
    expect(() => seededHead({ d: 0, m: 2, k: 3, seed: 1, modelId: "x" })).toThrow(/head.d/);
    expect(() => seededHead({ d: 4, m: 2, k: 3, seed: -1, modelId: "x" })).toThrow(/seed/);
    expect(() => seededHead({ d: 4, m: 2, k: 3, seed: 1.5, modelId: "x" })).toThrow(/seed/);
  });
});

describe("computeHeadHash", () => {
  it("is 16 hex characters and stable across copies", () => {
    const head = small();
    expect(head.hash).toMatch(/^[0-9a-f]{16}$/);
    const copy = { ...head, theta0: head.theta0.slice(), B: head.B.slice() };
    expect(computeHeadHash(copy)).toBe(head.hash);
  });

  it("changes when any value changes", () => {
    const head = seededHead({ d: 4, m: 2, k: 3, seed: 1, modelId: "x", priorVariance: 1 });
    const edits: ((h: Head) => void)[] = [
      (h) => {
        h.theta0[5] = h.theta0[5]! + 1e-6;
      },
      (h) => {
        h.B[0] = -h.B[0]!;
      },
      (h) => {
        h.b0 += 0.25;
      },
      (h) => {
        h.prior!.mean[2] = 0.5;
      },
      (h) => {
        h.prior!.cov[1] = 0.5;
      },
      (h) => {
        h.prior = undefined;
      },
    ];
    const hashes = new Set([head.hash]);
    for (const edit of edits) {
      const copy: Head = {
        ...head,
        theta0: head.theta0.slice(),
        B: head.B.slice(),
        prior: { mean: head.prior!.mean.slice(), cov: head.prior!.cov.slice() },
      };
      edit(copy);
      hashes.add(computeHeadHash(copy));
    }
    expect(hashes.size).toBe(edits.length + 1);
  });

  it("depends on the shapes, not only the bytes", () => {
    const head = small();
    // Same bytes in theta0 and B, read as d=2, m=4, k=6 instead of d=4, m=2, k=3.
    const reshaped = { ...head, d: 2, m: 4, k: 6 };
    expect(computeHeadHash(reshaped)).not.toBe(head.hash);
  });
});

describe("writeHead / readHead", () => {
  it("round-trips a head with and without a prior", async () => {
    for (const head of [
      small(),
      seededHead({ d: 5, m: 1, k: 2, seed: 9, modelId: "prior-model", priorVariance: 0.5 }),
    ]) {
      const dir = freshDir();
      await writeHead(dir, head);
      expect(await readHead(dir)).toEqual(head);
      expect(await readdir(dir)).toEqual([HEAD_FILE]);
    }
  });

  it("replaces an existing head and leaves no temporary files", async () => {
    const dir = freshDir();
    await writeHead(dir, small(1));
    await writeHead(dir, small(2));
    expect((await readHead(dir)).hash).toBe(small(2).hash);
    expect(await readdir(dir)).toEqual([HEAD_FILE]);
  });

  it("refuses to write a head whose hash or lengths are wrong", async () => {
    const dir = freshDir();
    await expect(writeHead(dir, { ...small(), hash: "0000000000000000" })).rejects.toThrow(
      /head.hash: expected [0-9a-f]{16}/,
    );
    await expect(writeHead(dir, { ...small(), B: new Float32Array(5) })).rejects.toThrow(
      /head.B: expected 12 values \(d×k = 4×3\), got 5/,
    );
    await expect(readdir(dir)).rejects.toThrow();
  });

  it("detects edited tensor bytes", async () => {
    const dir = freshDir();
    await writeHead(dir, small());
    const bytes = await readFile(join(dir, HEAD_FILE));
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(join(dir, HEAD_FILE), bytes);
    const error = await readError(dir);
    expect(error.code).toBe("HEAD_HASH_MISMATCH");
    expect(error.message).toMatch(/does not match the tensors' hash/);
  });

  it("rejects files that break the head format", async () => {
    const head = small();
    const cases: [Record<string, Tensor>, Record<string, string>, RegExp][] = [
      [rawTensors(head), { ...rawMetadata(head), format: "other" }, /expected metadata format/],
      [
        rawTensors(head),
        { ...rawMetadata(head), k: "3.5" },
        /metadata k: expected a positive integer/,
      ],
      [rawTensors(head), { ...rawMetadata(head), model_id: "" }, /model_id/],
      [
        { ...rawTensors(head), theta0: { dtype: "F32", shape: [2, 4], data: head.theta0 } },
        rawMetadata(head),
        /tensor theta0: expected F32 \[4,2\], got F32 \[2,4\]/,
      ],
      [
        {
          ...rawTensors(head),
          b0: { dtype: "F64", shape: [1], data: new Float64Array([head.b0]) },
        },
        rawMetadata(head),
        /tensor b0: expected F32 \[1\]/,
      ],
      [
        { theta0: rawTensors(head)["theta0"]!, b0: rawTensors(head)["b0"]! },
        rawMetadata(head),
        /missing tensor B/,
      ],
      [
        { ...rawTensors(head), extra: { dtype: "U8", shape: [1], data: new Uint8Array(1) } },
        rawMetadata(head),
        /unexpected tensors extra/,
      ],
      [
        {
          ...rawTensors(head),
          prior_mean: { dtype: "F64", shape: [6], data: new Float64Array(6) },
        },
        rawMetadata(head),
        /both prior_mean and prior_cov, or neither/,
      ],
      [
        {
          ...rawTensors(head),
          theta0: { dtype: "F32", shape: [4, 2], data: new Float32Array(8).fill(Number.NaN) },
        },
        rawMetadata(head),
        /head.theta0\[0\]: expected a finite number/,
      ],
    ];
    for (const [tensors, metadata, message] of cases) {
      const error = await readError(await writeRaw(tensors, metadata));
      expect(error.code).toBe("HEAD_INVALID");
      expect(error.message).toMatch(message);
    }
  });

  it("reports a missing or corrupt file as HEAD_INVALID naming the file", async () => {
    const missing = await readError(freshDir());
    expect(missing.code).toBe("HEAD_INVALID");
    expect(missing.message).toMatch(/head\.safetensors: cannot read the head/);
    const dir = freshDir();
    await writeHead(dir, small());
    await writeFile(join(dir, HEAD_FILE), new Uint8Array(4));
    const corrupt = await readError(dir);
    expect(corrupt.code).toBe("HEAD_INVALID");
    expect(corrupt.message).toMatch(/head\.safetensors: file is 4 bytes/);
  });
});

describe("the committed default head", () => {
  it("loads, its hash is its tensors' hash, and report.json says the training pipeline made it", async () => {
    const committed = await readHead(DEFAULT_HEAD_DIR);
    expect(computeHeadHash(committed)).toBe(committed.hash);
    expect([committed.d, committed.m, committed.k, committed.modelId]).toEqual([
      341,
      2,
      2,
      "sharelora-default-bytes-v2",
    ]);
    expect(committed.prior?.mean.length).toBe(committed.k * committed.m);
    const report = JSON.parse(await readFile(join(DEFAULT_HEAD_DIR, "report.json"), "utf8"));
    expect(report).toMatchObject({
      head_hash: committed.hash,
      model_id: committed.modelId,
      share: "B",
      rank: committed.k,
      servable: true,
    });
    expect(report.users).toBeGreaterThan(0);
  });
});
