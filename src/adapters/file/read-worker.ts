import { parentPort, workerData } from "node:worker_threads";
import { errorCode } from "../../io/durable-fs.js";
import { AdapterError } from "../errors.js";
import { decodeAdapterWeights } from "../format.js";
import { adapterPathUnder } from "./paths.js";
import {
  PROGRESS_BATCH,
  PROGRESS_INDEX,
  PROGRESS_SINCE,
  PROGRESS_SLOTS,
  READ_ABSENT,
  READ_FAILED,
  READ_FILE,
  type ReadReply,
  type ReadRequest,
  type ReadThreadData,
} from "./read-worker-protocol.js";
import {
  readFileSyncBounded,
  readWeightsSync,
  TOO_LARGE,
  WEIGHTS_READ_BYTES,
} from "./weights-read.js";

/** Reads and decodes adapters' weights off the event loop: syscalls and header parsing both. */
const port = parentPort;
if (!port) throw new Error("read-worker.ts must run in a worker thread");
const { prefix, shape, maxBytes, headHash, progress: shared, epoch } = workerData as ReadThreadData;
const progress = new Int32Array(shared, 0, PROGRESS_SLOTS);

/** Says which user the thread reads now, and since when: the time first, then the index. */
function reading(index: number): void {
  Atomics.store(progress, PROGRESS_SINCE, (performance.timeOrigin + performance.now() - epoch) | 0);
  Atomics.store(progress, PROGRESS_INDEX, index);
}
const width = shape.k * shape.m;
const scratch = new Uint8Array(WEIGHTS_READ_BYTES);

port.on("message", ({ id, users, kinds }: ReadRequest) => {
  const n = users.length;
  reading(0);
  Atomics.store(progress, PROGRESS_BATCH, id);
  const reply: ReadReply = {
    id,
    status: new Uint8Array(n),
    versions: new Float64Array(n),
    headHashes: new Array<string>(n).fill(""),
    W: new Float32Array(n * width),
    files: new Array(n).fill(null),
    failures: new Array(n).fill(null),
  };
  const transfer: ArrayBuffer[] = [];
  users.forEach((user, i) => {
    reading(i);
    try {
      const path = adapterPathUnder(prefix, user);
      if (kinds[i] === READ_FILE) {
        const bytes = readFileSyncBounded(path, maxBytes);
        if (bytes === TOO_LARGE) {
          throw new AdapterError(
            "ADAPTER_CORRUPT",
            `adapter of user ${user}: file is larger than the ${maxBytes} bytes allowed`,
            { user },
          );
        }
        if (bytes === undefined) reply.status[i] = READ_ABSENT;
        else {
          reply.files[i] = bytes;
          transfer.push(bytes.buffer as ArrayBuffer);
        }
        return;
      }
      const options = { user, shape, maxBytes, headHash };
      const weights = readWeightsSync(
        path,
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
  // Done before the reply is posted: a reader that finds the batch done awaits the reply.
  Atomics.store(progress, PROGRESS_INDEX, n);
  port.postMessage(reply, [
    reply.W.buffer,
    reply.status.buffer,
    reply.versions.buffer,
    ...transfer,
  ] as ArrayBuffer[]);
});
