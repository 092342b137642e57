import type { Head } from "../model/head-file.js";
import { ServiceError } from "./errors.js";

/**
 * With B = 0 every W gives the global reward: fitting or querying a user would be meaningless.
 * The head never changes while it is served, so B (d·k values) is scanned once, here, and the
 * returned check costs nothing per request.
 */
export function sharedBasisCheck(head: Head): () => void {
  if (head.basis !== "none" && head.B.some((x) => x !== 0)) return () => {};
  const detail =
    `The served head ${head.hash} has no shared basis (B = 0: imported without --calibration), so a user's adapter cannot change any reward. ` +
    "Learn B with `sharelora fit --model DIR --keep-theta0` (or import with --calibration) and restart the server";
  return () => {
    throw new ServiceError("NO_SHARED_BASIS", detail);
  };
}
