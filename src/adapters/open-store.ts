import { FileAdapterStore } from "./file-store.js";
import type { AdapterShape, AdapterStore } from "./types.js";

/** `--adapters` takes a directory, or a redis:// URL. */
export async function openAdapterStore(spec: string, shape: AdapterShape): Promise<AdapterStore> {
  if (/^rediss?:\/\//.test(spec)) {
    throw new TypeError(`Redis adapter stores are not supported by this build: ${spec}`);
  }
  return FileAdapterStore.open({ root: spec, shape });
}
