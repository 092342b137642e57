/**
 * The global head: Θ0 by ridge-penalized logistic regression on every user's training pairs
 * pooled (d·m unknowns), solved by Newton–CG. Also the per-user local baseline, which is the same
 * problem on one user's pairs.
 */

import { DEFAULT_NEWTON_CG, type NewtonCgSettings, NewtonCgSolver } from "../../math/newton-cg.js";
import { type DeltaStack, stackPairs } from "./delta-stack.js";
import { GramPreconditioner, gramPreconditionerPays } from "./gram-preconditioner.js";
import { assertPairBlock, assertShape } from "./pair-blocks.js";
import type { PairBlock, SharedData } from "./pair-data.js";
import { PairOperator } from "./pair-operator.js";
import { assertCount, assertPositive, blockPenalty } from "./ridge.js";
import { validateSharedData } from "./split-users.js";
import { IdentityMap } from "./user-maps.js";

/**
 * Ridge strength when none is given: suits features with entries of order one (as the feature
 * synth's N(0, 1)); choose it by validation log-likelihood for other backbones.
 */
export const DEFAULT_L2 = 10;

export interface GlobalOptions {
  /** Ridge λ0 on Θ0 (default DEFAULT_L2). */
  l2?: number;
  /** Newton iterations (default 50). */
  maxIterations?: number;
  /** Relative gradient tolerance (default 1e-6). */
  tolerance?: number;
}

export interface GlobalHead {
  /** d×m row-major. */
  theta0: Float64Array;
  /** Always 0: a bias cancels in every pairwise difference, so pairs cannot identify it. */
  b0: number;
  iterations: number;
  converged: boolean;
  /** Mean log σ(⟨Θ0, Δ_j⟩) over the training pairs. */
  trainLogLikelihood: number;
}

export function pretrainGlobal(data: SharedData, options: GlobalOptions = {}): GlobalHead {
  validateSharedData(data);
  const stack = stackPairs(
    data.users.map((u) => u.train),
    data.d,
    data.m,
  );
  return fitGlobalHead(stack, options);
}

/** Each user's own Θ_i (d×m) from their pairs alone, ridge-penalized with λ = l2. */
export function trainLocal(
  pairs: PairBlock,
  l2 = DEFAULT_L2,
  options: Omit<GlobalOptions, "l2"> = {},
): Float64Array {
  assertShape(pairs.d, pairs.m);
  assertPairBlock(pairs, pairs.d, pairs.m, "pairs");
  return fitGlobalHead(stackPairs([pairs], pairs.d, pairs.m), { ...options, l2 }).theta0;
}

export function fitGlobalHead(
  stack: DeltaStack,
  options: GlobalOptions = {},
  start?: Float64Array,
): GlobalHead {
  const l2 = options.l2 ?? DEFAULT_L2;
  assertPositive(l2, "l2");
  const settings = globalSettings(options);
  const q = stack.d * stack.m;
  const operator = new PairOperator(stack, [new IdentityMap(stack.d, stack.m)]);
  const theta0 = start === undefined ? new Float64Array(q) : Float64Array.from(start);
  const penalty = blockPenalty([[q, l2]]);
  const outcome = new NewtonCgSolver().solve(
    {
      operator,
      offset: null,
      penalty,
      ...(gramPreconditionerPays(stack)
        ? { preconditioner: new GramPreconditioner(stack, penalty) }
        : {}),
    },
    theta0,
    settings,
  );
  return {
    theta0,
    b0: 0,
    iterations: outcome.iterations,
    converged: outcome.converged,
    trainLogLikelihood: stack.n === 0 ? 0 : outcome.logLikelihood / stack.n,
  };
}

function globalSettings(options: GlobalOptions): NewtonCgSettings {
  const maxIterations = options.maxIterations ?? DEFAULT_NEWTON_CG.maxIterations;
  const tolerance = options.tolerance ?? DEFAULT_NEWTON_CG.tolerance;
  assertCount(maxIterations, "maxIterations", 0);
  assertPositive(tolerance, "tolerance");
  return { ...DEFAULT_NEWTON_CG, maxIterations, tolerance };
}
