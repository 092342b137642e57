import { errorCode } from "../../io/durable-fs.js";
import { StoreIo } from "../store-io.js";

/** The file store's failures name the errno code alone: the path stays in the cause. */
export const FILE_IO = new StoreIo({ reason: (error) => ` (${errorCode(error) ?? "error"})` });
