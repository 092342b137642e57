import { composeTheta } from "./head-evaluation.js";
import type { SharedModel } from "./shared-model.js";

/** Θ_u (d×m) of the model's user at `index`: Θ0 + B·W_u, or Θ0 + B_u·A for share A. */
export function personalTheta(model: SharedModel, index: number): Float64Array {
  if (!Number.isInteger(index) || index < 0 || index >= model.users.length) {
    throw new TypeError(`index: expected an integer in [0, ${model.users.length}), got ${index}`);
  }
  const { d, k, m } = model;
  return model.share === "B"
    ? composeTheta(model.theta0, model.B, model.W[index], d, k, m)
    : composeTheta(model.theta0, model.userB[index], model.A, d, k, m);
}
