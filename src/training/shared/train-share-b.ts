/**
 * P-ShareLoRA with a shared B (d×k) and personal W_i (k×m): Θ_i = Θ0 + B·W_i. Each round
 * (a) refits every W_i with B fixed (AdapterStep), (b) refits B, and Θ0 with it unless told
 * otherwise, with every W_i fixed — one logistic regression in d·k (+ d·m) unknowns through the
 * identity ⟨B·W_i, Δ_j⟩ = ⟨B, Δ_j·W_iᵀ⟩, solved by Newton–CG — and (c) rebalances B and the W_i,
 * which keeps each B·W_i. Every step is exact block ascent (or a penalty decrease) on
 *   Σ log-likelihood − ½λ0‖Θ0‖² − ½λ_B‖B‖² − ½λ_W Σ‖W_i‖²,
 * so that objective never decreases; the returned parameters are those of the round with the best
 * validation log-likelihood, with B rotated to orthonormal principal directions.
 */
import { AdapterStep } from "./adapter-step.js";
import { alternatingFit, modelHeader } from "./alternating-fit.js";
import { balanceFactors, principalFactors } from "./factor-balance.js";
import { initialFactors } from "./initial-factors.js";
import type { SharedData } from "./pair-data.js";
import { estimatePopulationPrior } from "./population-prior.js";
import type { ShareBModel } from "./shared-model.js";
import type { TrainSettings } from "./train-settings.js";

export function trainShareB(data: SharedData, settings: TrainSettings): ShareBModel {
  const { d, m } = data;
  const { k, l2, l2User } = settings;
  const { best, report, train } = alternatingFit(data, settings, {
    sharedSide: "left",
    initialize: (stack) => {
      const { theta0, B } = initialFactors(stack, settings);
      return { theta0, shared: B };
    },
    personalStep: (stack, B, W) => {
      const adapters = new AdapterStep(stack, k, l2User);
      return (offsets) => adapters.run(B, offsets, W);
    },
    rebalance: (B, W) => balanceFactors(B, W, d, k, m, l2, l2User),
  });

  const principal = principalFactors(best.shared, best.personal, d, k, m);
  // A user without training pairs sits at W = 0 by construction and says nothing about the population.
  const informative = principal.coefficients.filter(
    (_, u) => train.userStart[u + 1] > train.userStart[u],
  );
  return {
    share: "B",
    ...modelHeader(data, k, best.theta0),
    B: principal.basis,
    W: principal.coefficients,
    prior: estimatePopulationPrior(
      informative.length > 0 ? informative : principal.coefficients,
      k * m,
    ),
    report,
  };
}
