/**
 * ratio_sequence_model: the server scoring never-seen conversations with a decoder reward model
 * (the Llama-architecture fixture, float32, imported with its own score head) over onnxruntime
 * running the same ONNX export directly, on texts rendered and tokenized ahead of time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { createTokenizer } from "../src/inference/create-tokenizer.js";
import { createModelRenderer } from "../src/inference/render.js";
import { readHead } from "../src/model/head-file.js";
import { importModel } from "../src/model/import-model.js";
import { loadModelDir } from "../src/model/manifest.js";
import { LLAMA3_TOKENIZER_DIR, llamaFixture } from "../test/helpers/llama-fixture.js";
import { runLoad } from "./load.js";
import type { Durations } from "./options.js";
import { RAW_BATCHES } from "./options.js";
import { openRawSessions, timedBatches } from "./raw-sessions.js";
import type { Figures } from "./result.js";
import { pairedRatios, rates, type Sample, sampled, windows } from "./samples.js";
import { type BatchedRunLength, scoreBody, TextCursor } from "./scenarios.js";
import { ChildServer } from "./server.js";
import { median, ratioOfMedians, round } from "./stats.js";
import { type BenchText, benchTexts } from "./texts.js";

/**
 * Requests carry SEQUENCE_ITEMS never-seen conversations each, as an RLHF trainer sends a
 * micro-batch: the fixture is so small (d = 32, two layers) that one text per request would
 * measure HTTP and JSON rather than serving; that load is reported in details too.
 */
export const SEQUENCE_ITEMS = 8;
export const SEQUENCE_CONCURRENCY = 32;
const SINGLE_CONCURRENCY = 128;

/** Global scores of never-seen texts, `items` per request; units are texts. */
function distinctLoad(
  server: ChildServer,
  cursor: TextCursor,
  items: number,
  concurrency: number,
  length: BatchedRunLength,
) {
  return runLoad({
    client: server.client,
    concurrency,
    ...length,
    next: () => ({ path: "/v1/score", body: scoreBody(cursor.take(items)), units: items }),
  });
}

/**
 * onnxruntime on the fixture's graph and the head graph, fed as transformers feeds a decoder.
 * From `texts` each batch's conversations are rendered with the chat template and tokenized
 * inside the timed loop, as a script scoring texts with onnxruntime must; from `ids` they were
 * tokenized ahead of time, so only the two graphs are timed.
 */
class SequenceRawRunner {
  readonly #backbone: ort.InferenceSession;
  readonly #head: ort.InferenceSession;
  readonly #texts: BenchText[];
  readonly #sequences: number[][];
  readonly #encode: (text: BenchText) => number[];
  #next = 0;

  private constructor(
    backbone: ort.InferenceSession,
    head: ort.InferenceSession,
    texts: BenchText[],
    encode: (text: BenchText) => number[],
  ) {
    this.#backbone = backbone;
    this.#head = head;
    this.#texts = texts;
    this.#encode = encode;
    this.#sequences = texts.map(encode);
  }

  static async create(modelDir: string): Promise<SequenceRawRunner> {
    const model = await loadModelDir(modelDir);
    const { manifest } = model;
    const tokenizer = await createTokenizer(manifest, model.dir);
    const renderer = createModelRenderer(manifest, tokenizer);
    const encode = (text: BenchText) =>
      tokenizer.encodeSequence(renderer.renderSequence(text), manifest.max_length).ids;
    const head = await readHead(model.headDir);
    const sessions = await openRawSessions(model.backbone.bytes, head, {
      kind: "hidden",
      pooling: "last",
      paddingSide: "right",
    });
    return new SequenceRawRunner(
      sessions.backbone,
      sessions.head,
      benchTexts("rawseq", 0, 2048),
      encode,
    );
  }

  measure(batch: number, durationMs: number, from: "texts" | "ids", warmup = true) {
    return timedBatches(batch, durationMs, warmup, (n) => this.#runBatch(n, from));
  }

  async #runBatch(n: number, from: "texts" | "ids"): Promise<void> {
    const rows: number[][] = [];
    let length = 0;
    for (let b = 0; b < n; b++) {
      const ids =
        from === "ids" ? this.#sequences[this.#next]! : this.#encode(this.#texts[this.#next]!);
      this.#next = (this.#next + 1) % this.#sequences.length;
      rows.push(ids);
      length = Math.max(length, ids.length);
    }
    // Right padding with id 0 (masked out); positions are mask cumsum − 1, 1 on padding.
    const inputIds = new BigInt64Array(n * length);
    const mask = new BigInt64Array(n * length);
    const positions = new BigInt64Array(n * length).fill(1n);
    rows.forEach((ids, b) => {
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * length + t] = BigInt(ids[t]!);
        mask[b * length + t] = 1n;
        positions[b * length + t] = BigInt(t);
      }
    });
    const dims = [n, length];
    const attention = new ort.Tensor("int64", mask, dims);
    const out = await this.#backbone.run({
      input_ids: new ort.Tensor("int64", inputIds, dims),
      attention_mask: attention,
      position_ids: new ort.Tensor("int64", positions, dims),
    });
    const head = await this.#head.run(
      { last_hidden_state: out["last_hidden_state"]!, attention_mask: attention },
      ["base"],
    );
    if (head["base"]?.dims[0] !== n) throw new Error("The head graph returned the wrong batch");
  }

  async dispose(): Promise<void> {
    await this.#backbone.release();
    await this.#head.release();
  }
}

export interface SequenceOutcome {
  figures: Partial<Figures>;
  details: Record<string, unknown>;
  note: string;
}

export async function measureSequenceModel(
  d: Durations,
  cacheDir: string,
  log: (message: string) => void,
): Promise<SequenceOutcome> {
  log("sequence model: building the Llama fixture and importing it");
  const fixture = await llamaFixture();
  const modelDir = join(cacheDir, "bench-sequence-model");
  await importModel({
    onnx: fixture.model,
    tokenizer: LLAMA3_TOKENIZER_DIR,
    scoreHead: fixture.scoreHead,
    pooling: "last",
    out: modelDir,
  });
  const raw = await SequenceRawRunner.create(modelDir);
  const adapters = await mkdtemp(join(tmpdir(), "sharelora-bench-seq-"));
  let server: ChildServer | undefined;
  try {
    const calibration: { batch: number; seqPerS: number }[] = [];
    for (const batch of RAW_BATCHES) {
      calibration.push({ batch, seqPerS: await raw.measure(batch, d.rawCalibrationMs, "texts") });
    }
    const best = calibration.reduce((a, b) => (b.seqPerS > a.seqPerS ? b : a));
    log(`sequence raw: best batch ${best.batch} (${best.seqPerS.toFixed(1)} texts/s)`);
    server = await ChildServer.start({ adapters, device: "cpu", model: modelDir });
    const cursor = new TextCursor("q");
    const length = {
      durationMs: d.batchedMs,
      minBursts: d.minBursts,
      maxDurationMs: d.maxBatchedMs,
    };
    const started = server;
    await distinctLoad(started, cursor, SEQUENCE_ITEMS, SEQUENCE_CONCURRENCY, {
      durationMs: d.serverWarmupMs,
      minBursts: 0,
      maxDurationMs: 0,
    });
    const rawRuns: number[] = [];
    const graphRuns: number[] = [];
    const samples: Sample[] = [];
    const singles: Sample[] = [];
    const measureRaw = async () => {
      rawRuns.push(await raw.measure(best.batch, d.rawRoundMs, "texts", false));
      graphRuns.push(await raw.measure(best.batch, d.rawRoundMs, "ids", false));
    };
    for (let r = 0; r < d.rounds; r++) {
      log(`sequence round ${r + 1} of ${d.rounds}`);
      await measureRaw();
      samples.push(
        await sampled(started, rawRuns.length - 1, () =>
          distinctLoad(started, cursor, SEQUENCE_ITEMS, SEQUENCE_CONCURRENCY, length),
        ),
      );
      await measureRaw();
      singles.push(
        await sampled(started, rawRuns.length - 1, () =>
          distinctLoad(started, cursor, 1, SINGLE_CONCURRENCY, length),
        ),
      );
    }
    await measureRaw();
    return {
      figures: {
        sequence_raw_seq_per_s: round(median(rawRuns), 2),
        sequence_server_seq_per_s: round(median(rates(samples)), 2),
        ratio_sequence_model: round(ratioOfMedians(rates(samples), rawRuns), 3),
      },
      details: {
        model: { d: fixture.d, layers: 2, vocabulary: fixture.vocabSize },
        raw_calibration: calibration.map((c) => ({
          batch: c.batch,
          seq_per_s: round(c.seqPerS, 2),
        })),
        raw_batch: best.batch,
        raw_runs: rawRuns.map((x) => round(x, 2)),
        graphs_only: {
          runs: graphRuns.map((x) => round(x, 2)),
          ratio: round(ratioOfMedians(rates(samples), graphRuns), 3),
          paired_ratios: pairedRatios(samples, graphRuns),
        },
        server_runs: rates(samples),
        windows: windows(samples),
        paired_ratios: pairedRatios(samples, rawRuns),
        one_text_per_request: {
          concurrency: SINGLE_CONCURRENCY,
          runs: rates(singles),
          ratio: round(ratioOfMedians(rates(singles), rawRuns), 3),
          paired_ratios: pairedRatios(singles, rawRuns),
        },
      },
      note:
        `ratio_sequence_model: the Llama-architecture fixture (float32, ${fixture.d} wide, Llama 3 ` +
        "tokenizer and chat template, pooling last) imported with import-model; " +
        `${SEQUENCE_CONCURRENCY} concurrent clients, each request ${SEQUENCE_ITEMS} never-seen ` +
        "{prompt, response} items, global reward, over onnxruntime running the same graph and " +
        "head graph at its best batch size, on conversations it renders with the same chat " +
        "template and tokenizes with the same tokenizer as it goes; details.graphs_only has the " +
        "server over onnxruntime on conversations tokenized ahead of time (the two graphs alone), " +
        `details.one_text_per_request the server with one text per request from ${SINGLE_CONCURRENCY} ` +
        "clients (per-request HTTP work dominates a model this small).",
    };
  } finally {
    await server?.stop();
    await raw.dispose();
    await rm(adapters, { recursive: true, force: true });
  }
}
