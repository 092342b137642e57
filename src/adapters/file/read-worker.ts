import { parentPort, workerData } from "node:worker_threads";
import { errorCode } from "../../io/durable-fs.js";
import { AdapterError } from "../errors.js";
import { decodeAdapterWeights } from "../format.js";
import { adapterPathUnder } from "./paths.js";
import {
  READ_ABSENT,
  READ_FAILED,
  type ReadReply,
  type ReadRequest,
  type ReadWorkerData,
} from "./read-worker-protocol.js";
import { readWeightsSync, WEIGHTS_READ_BYTES } from "./weights-read.js";

/** Reads and decodes adapters' weights off the event loop: syscalls and header parsing both. */
const port = parentPort;
if (!port) throw new Error("read-worker.ts must run in a worker thread");
const { prefix, shape, maxBytes, headHash } = workerData as ReadWorkerData;
const width = shape.k * shape.m;
const scratch = new Uint8Array(WEIGHTS_READ_BYTES);

port.on("message", ({ id, users }: ReadRequest) => {
  const n = users.length;
  const reply: ReadReply = {
    id,
    status: new Uint8Array(n),
    versions: new Float64Array(n),
    headHashes: new Array<string>(n).fill(""),
    W: new Float32Array(n * width),
    failures: new Array(n).fill(null),
  };
  users.forEach((user, i) => {
    try {
      const options = { user, shape, maxBytes, headHash };
      const weights = readWeightsSync(
        adapterPathUnder(prefix, user),
        (bytes, fileBytes) => decodeAdapterWeights(bytes, fileBytes, options),
        scratch,
      );
      if (weights === undefined) {
        reply.status[i] = READ_ABSENT;
        return;
      }
      reply.versions[i] = weights.version;
      reply.headHashes[i] = weights.headHash;
      reply.W.set(weights.W, i * width);
    } catch (error) {
      reply.status[i] = READ_FAILED;
      reply.failures[i] = {
        adapterCode: error instanceof AdapterError ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
        ioCode: errorCode(error),
      };
    }
  });
  port.postMessage(reply, [
    reply.W.buffer,
    reply.status.buffer,
    reply.versions.buffer,
  ] as ArrayBuffer[]);
});
