import type { Adapter } from "./types.js";

/** Object headers, typed-array wrappers and cache bookkeeping around the numbers themselves. */
export const ADAPTER_OVERHEAD_BYTES = 640;
const BYTES_PER_METRIC = 64;

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
