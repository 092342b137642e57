import * as ort from "onnxruntime-node";
import { createTokenizer } from "../src/inference/create-tokenizer.js";
import { readHead } from "../src/model/head-file.js";
import { loadModelDir } from "../src/model/manifest.js";
import { openRawSessions, timedBatches } from "./raw-sessions.js";
import type { BenchText } from "./texts.js";

export interface RawMeasurement {
  batch: number;
  seqPerS: number;
}

/**
 * The baseline: the default backbone and the head graph run by onnxruntime directly, with the
 * session options the server uses, on texts tokenized ahead of time by the project's tokenizer.
 */
export class RawRunner {
  readonly #backbone: ort.InferenceSession;
  readonly #head: ort.InferenceSession;
  readonly #output: string;
  readonly #padId: number;
  readonly #sequences: number[][];
  #next = 0;

  private constructor(
    backbone: ort.InferenceSession,
    head: ort.InferenceSession,
    output: string,
    padId: number,
    sequences: number[][],
  ) {
    this.#backbone = backbone;
    this.#head = head;
    this.#output = output;
    this.#padId = padId;
    this.#sequences = sequences;
  }

  static async create(modelDir: string, texts: readonly BenchText[]): Promise<RawRunner> {
    const model = await loadModelDir(modelDir);
    const { manifest } = model;
    if (manifest.pooling !== "none") {
      throw new TypeError(
        `The raw baseline expects pooled backbone features; got ${manifest.pooling}`,
      );
    }
    const head = await readHead(model.headDir);
    const tokenizer = await createTokenizer(manifest, model.dir);
    const sequences = texts.map(
      (t) => tokenizer.encodePair(t.prompt, t.response, manifest.max_length).ids,
    );
    const sessions = await openRawSessions(model.backbone.bytes, head, { kind: "pooled" });
    return new RawRunner(
      sessions.backbone,
      sessions.head,
      manifest.backbone.output,
      tokenizer.padId,
      sequences,
    );
  }

  /** Sequences per second at one batch size (see timedBatches). */
  async measure(batch: number, durationMs: number, warmup = true): Promise<RawMeasurement> {
    const seqPerS = await timedBatches(batch, durationMs, warmup, (n) => this.#runBatch(n));
    return { batch, seqPerS };
  }

  /**
   * Each batch size measured in one order then (second pass) the other, keeping its better
   * run: on a shared machine other work only ever slows a run down.
   */
  async calibrate(
    batches: readonly number[],
    durationMs: number,
    passes: 1 | 2 = 2,
  ): Promise<RawMeasurement[]> {
    const best = new Map<number, number>();
    const orders = [batches, [...batches].reverse()].slice(0, passes);
    for (const [pass, order] of orders.entries()) {
      for (const batch of order) {
        const { seqPerS } = await this.measure(batch, durationMs, pass === 0);
        best.set(batch, Math.max(best.get(batch) ?? 0, seqPerS));
      }
    }
    return batches.map((batch) => ({ batch, seqPerS: best.get(batch)! }));
  }

  async #runBatch(n: number): Promise<void> {
    const rows: number[][] = new Array(n);
    let length = 0;
    for (let b = 0; b < n; b++) {
      const ids = this.#sequences[this.#next]!;
      this.#next = (this.#next + 1) % this.#sequences.length;
      rows[b] = ids;
      length = Math.max(length, ids.length);
    }
    const inputIds = new BigInt64Array(n * length).fill(BigInt(this.#padId));
    const mask = new BigInt64Array(n * length);
    for (let b = 0; b < n; b++) {
      const ids = rows[b]!;
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * length + t] = BigInt(ids[t]!);
        mask[b * length + t] = 1n;
      }
    }
    const dims = [n, length];
    const out = await this.#backbone.run(
      {
        input_ids: new ort.Tensor("int64", inputIds, dims),
        attention_mask: new ort.Tensor("int64", mask, dims),
      },
      [this.#output],
    );
    const features = out[this.#output]!;
    const head = await this.#head.run({ features }, ["base", "proj"]);
    if (head["base"]?.dims[0] !== n) throw new Error("The head graph returned the wrong batch");
  }

  async dispose(): Promise<void> {
    await this.#backbone.release();
    await this.#head.release();
  }
}
