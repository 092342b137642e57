import * as ort from "onnxruntime-node";
import type { Head } from "../src/model/head-file.js";
import { buildHeadGraphOf, type HeadGraphInput } from "../src/model/head-graph.js";

export interface RawSessions {
  backbone: ort.InferenceSession;
  head: ort.InferenceSession;
}

/** The backbone and the head graph as onnxruntime sessions, with the options the server uses. */
export async function openRawSessions(
  backbone: Uint8Array,
  head: Head,
  input: HeadGraphInput,
): Promise<RawSessions> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  };
  const headGraph = buildHeadGraphOf(head, input);
  return {
    backbone: await ort.InferenceSession.create(backbone, options),
    head: await ort.InferenceSession.create(headGraph, options),
  };
}

/**
 * Sequences per second of `runBatch(batch)` over at least `durationMs` and one batch; `warmup`
 * runs one untimed batch first (the first run of a new shape allocates).
 */
export async function timedBatches(
  batch: number,
  durationMs: number,
  warmup: boolean,
  runBatch: (n: number) => Promise<void>,
): Promise<number> {
  if (warmup) await runBatch(batch);
  let done = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs || done === 0) {
    await runBatch(batch);
    done += batch;
    elapsed = performance.now() - started;
  }
  return (done / elapsed) * 1000;
}
