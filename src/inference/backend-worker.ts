import { parentPort, workerData } from "node:worker_threads";
import type { TokenSeq } from "./backend.js";
import { OnnxBackend, type OnnxBackendOptions } from "./onnx-backend.js";
import { unpackBatch } from "./packed-batch.js";
import type { WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Runs the ONNX sessions on their own thread: onnxruntime-node's run() blocks the thread it runs on. */
const port = parentPort;
if (!port) throw new Error("backend-worker.ts must run in a worker thread");

const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) =>
  port.postMessage(reply, transfer);
const options = workerData as Omit<OnnxBackendOptions, "onFallback" | "onInference">;

let backend: OnnxBackend;
try {
  backend = await OnnxBackend.create({
    ...options,
    onFallback: (message) => post({ type: "log", message }),
  });
  post({ type: "ready", provider: backend.provider });
} catch (error) {
  post({ type: "failed", error: serialize(error) });
  process.exit(0);
}

port.on("message", async (request: WorkerRequest) => {
  if (request.type === "dispose") {
    await backend.dispose();
    post({ type: "disposed" });
    return;
  }
  const started = performance.now();
  try {
    const batch: TokenSeq[] = unpackBatch(request.batch);
    const features = await backend.embed(batch);
    const width = backend.k * backend.m;
    const base = new Float32Array(features.length);
    const proj = new Float32Array(features.length * width);
    features.forEach((f, i) => {
      base[i] = f.base;
      proj.set(f.proj, i * width);
    });
    post(
      {
        type: "embedded",
        id: request.id,
        base,
        proj,
        seconds: (performance.now() - started) / 1000,
      },
      [base.buffer, proj.buffer],
    );
  } catch (error) {
    post({ type: "embed-failed", id: request.id, error: serialize(error) });
  }
});

function serialize(error: unknown) {
  return {
    message: error instanceof Error ? error.message : String(error),
    code: (error as { code?: unknown } | null)?.code as string | undefined,
    name: error instanceof Error ? error.name : "Error",
  };
}
