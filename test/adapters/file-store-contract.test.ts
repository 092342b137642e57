import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { adapterPath } from "../../src/adapters/file/paths.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { encodeAdapter } from "../../src/adapters/format.js";
import { SHAPE } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";
import { describeStoreContract } from "./store-contract.js";

const tempDir = useTempDirs();

// No peer: the file store serializes updates within one process only.
describeStoreContract("FileAdapterStore", {
  async open(options = {}) {
    const root = await tempDir();
    const store = await FileAdapterStore.open({ root, shape: SHAPE, ...options });
    const write = async (user: string, bytes: Uint8Array | string) => {
      const path = adapterPath(root, user);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    };
    return {
      store,
      corrupt: (user, bytes) => write(user, bytes ?? "this is not a safetensors file"),
      put: (adapter) => write(adapter.user, encodeAdapter(adapter)),
    };
  },
});
