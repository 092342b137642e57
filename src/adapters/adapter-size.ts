import type { Adapter, AdapterWeights } from "./types.js";

/** Object headers, typed-array wrappers and cache bookkeeping around the numbers themselves. */
export const ADAPTER_OVERHEAD_BYTES = 640;
const BYTES_PER_METRIC = 64;
/** Measured: about 600 bytes of V8 heap per cached weights entry with k·m = 16. */
export const WEIGHTS_OVERHEAD_BYTES = 448;

/** Estimated memory an adapter holds: exact for its typed arrays, a bound for the rest. */
export function adapterByteSize(adapter: Adapter): number {
  let bytes =
    ADAPTER_OVERHEAD_BYTES +
    2 *
      (adapter.user.length +
        adapter.headHash.length +
        adapter.createdAt.length +
        adapter.updatedAt.length) +
    adapter.W.byteLength;
  for (const name of Object.keys(adapter.metrics)) bytes += BYTES_PER_METRIC + 2 * name.length;
  if (adapter.posterior !== undefined) bytes += adapter.posterior.cholesky.byteLength;
  if (adapter.pairs !== undefined) bytes += adapter.pairs.g.byteLength + adapter.pairs.o.byteLength;
  return bytes;
}

/** The same for an adapter's weights alone. */
export function weightsByteSize(weights: AdapterWeights): number {
  return (
    WEIGHTS_OVERHEAD_BYTES +
    2 * (weights.user.length + weights.headHash.length) +
    weights.W.byteLength
  );
}
