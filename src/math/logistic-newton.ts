/**
 * Newton's method with backtracking line search for the concave MAP objective of Bradley–Terry
 * logistic regression with a Gaussian prior:
 *
 *   f(w) = Σ_j log σ(o_j + w·g_j) − ½·s·(w − μ)ᵀ Λ₀ (w − μ)
 *
 * The solver owns all scratch buffers, so repeated solves (cross-validation grids and folds)
 * allocate nothing unless the number of rows grows.
 */
import {
  addWeightedOuterLower,
  addWeightedOuterLower4,
  choleskyInPlace,
  choleskySolve,
  dot,
  matVec,
  norm2,
} from "./linalg.js";

export interface LogisticProblem {
  /** n×p row-major feature differences. */
  g: Float64Array;
  /** n offsets. */
  o: Float64Array;
  n: number;
  /** When given, only rows j with active[j] !== 0 enter the objective (cross-validation folds). */
  active?: Uint8Array | null;
  /** Full symmetric positive-definite p×p base precision Λ₀; null for the identity. */
  priorPrecision: Float64Array | null;
  priorMean: Float64Array;
  /** s > 0: the effective prior precision is s·Λ₀. */
  priorScale: number;
}

export interface NewtonSettings {
  /** Stop when ‖∇f‖ ≤ tolerance · (1 + ‖∇ log-likelihood‖ + ‖s·Λ₀(w − μ)‖). */
  tolerance: number;
  maxIterations: number;
}

export interface NewtonOutcome {
  iterations: number;
  gradNorm: number;
  converged: boolean;
  objective: number;
}

const ARMIJO = 1e-4;
const MAX_HALVINGS = 60;
/**
 * Below this predicted gain (relative to |f|) the objective cannot resolve the improvement in
 * float64, so the full Newton step is taken without a line search (it is in the quadratic regime).
 */
const UNRESOLVABLE_GAIN = 1e-10;

export class LogisticNewtonSolver {
  readonly p: number;
  #capacity = 0;
  /** z_j = o_j + w·g_j and e_j = exp(−|z_j|) at the current point, and at the trial point. */
  #z = new Float64Array(0);
  #e = new Float64Array(0);
  #zTrial = new Float64Array(0);
  #eTrial = new Float64Array(0);
  readonly #gradient: Float64Array;
  readonly #step: Float64Array;
  readonly #trial: Float64Array;
  readonly #deviation: Float64Array;
  readonly #priorForce: Float64Array;
  readonly #hessian: Float64Array;
  readonly #blockOffsets = new Int32Array(4);
  readonly #blockWeights = new Float64Array(4);

  constructor(p: number, capacity = 0) {
    this.p = p;
    this.#gradient = new Float64Array(p);
    this.#step = new Float64Array(p);
    this.#trial = new Float64Array(p);
    this.#deviation = new Float64Array(p);
    this.#priorForce = new Float64Array(p);
    this.#hessian = new Float64Array(p * p);
    this.#ensureCapacity(capacity);
  }

  /**
   * Cholesky factor of the negative Hessian Σ_j σ_j(1−σ_j) g_j g_jᵀ + s·Λ₀ at the point returned
   * by the last `solve` that asked for it. A view into scratch memory: copy it before the next solve.
   */
  get hessianFactor(): Float64Array {
    return this.#hessian;
  }

  /**
   * Maximizes f starting from `w`, which is overwritten with the maximizer. Unless
   * `factor: false`, `hessianFactor` then holds the Cholesky factor of the negative Hessian at w.
   */
  solve(
    problem: LogisticProblem,
    w: Float64Array,
    settings: NewtonSettings,
    { factor = true }: { factor?: boolean } = {},
  ): NewtonOutcome {
    const p = this.p;
    this.#ensureCapacity(problem.n);
    const gradient = this.#gradient;
    const step = this.#step;
    const trial = this.#trial;
    const hessian = this.#hessian;

    let objective = this.#evaluate(problem, w, this.#z, this.#e);
    let iterations = 0;
    let gradNorm = Number.POSITIVE_INFINITY;
    let converged = false;
    let factorIsCurrent = false;

    for (;;) {
      const scale = this.#fillGradient(problem, w);
      gradNorm = norm2(gradient, p);
      if (gradNorm <= settings.tolerance * scale) {
        converged = true;
        break;
      }
      if (iterations >= settings.maxIterations) break;
      this.#fillHessian(problem);
      choleskyInPlace(hessian, p);
      choleskySolve(hessian, p, gradient, step);
      const predictedGain = dot(gradient, 0, step, 0, p);
      iterations++;

      if (predictedGain <= UNRESOLVABLE_GAIN * (1 + Math.abs(objective))) {
        for (let i = 0; i < p; i++) w[i] += step[i];
        objective = this.#evaluate(problem, w, this.#z, this.#e);
        continue;
      }

      let t = 1;
      let accepted = false;
      for (let halving = 0; halving < MAX_HALVINGS; halving++) {
        for (let i = 0; i < p; i++) trial[i] = w[i] + t * step[i];
        const trialObjective = this.#evaluate(problem, trial, this.#zTrial, this.#eTrial);
        if (trialObjective >= objective + ARMIJO * t * predictedGain) {
          w.set(trial);
          this.#acceptTrial();
          objective = trialObjective;
          accepted = true;
          break;
        }
        t *= 0.5;
      }
      if (!accepted) {
        factorIsCurrent = true;
        break;
      }
    }
    if (factor && !factorIsCurrent) {
      this.#fillHessian(problem);
      choleskyInPlace(hessian, p);
    }
    return { iterations, gradNorm, converged, objective };
  }

  #ensureCapacity(n: number): void {
    if (n <= this.#capacity) return;
    this.#capacity = n;
    this.#z = new Float64Array(n);
    this.#e = new Float64Array(n);
    this.#zTrial = new Float64Array(n);
    this.#eTrial = new Float64Array(n);
  }

  #acceptTrial(): void {
    const z = this.#z;
    const e = this.#e;
    this.#z = this.#zTrial;
    this.#e = this.#eTrial;
    this.#zTrial = z;
    this.#eTrial = e;
  }

  /** Fills z_j, e_j at w and returns f(w). */
  #evaluate(problem: LogisticProblem, w: Float64Array, z: Float64Array, e: Float64Array): number {
    const { g, o, n } = problem;
    const active = problem.active ?? null;
    const p = this.p;
    let logLikelihood = 0;
    for (let j = 0; j < n; j++) {
      if (active !== null && active[j] === 0) continue;
      const zj = o[j] + dot(w, 0, g, j * p, p);
      const ej = Math.exp(-Math.abs(zj));
      z[j] = zj;
      e[j] = ej;
      // log σ(z) = min(z, 0) − log(1 + e^{−|z|}).
      logLikelihood += Math.min(zj, 0) - Math.log1p(ej);
    }
    const deviation = this.#deviation;
    for (let i = 0; i < p; i++) deviation[i] = w[i] - problem.priorMean[i];
    applyPrecision(problem.priorPrecision, p, deviation, this.#priorForce);
    return logLikelihood - 0.5 * problem.priorScale * dot(deviation, 0, this.#priorForce, 0, p);
  }

  /**
   * Fills the gradient at w (z, e must match w) and returns the convergence scale
   * 1 + ‖∇ log-likelihood‖ + ‖s·Λ₀(w − μ)‖.
   */
  #fillGradient(problem: LogisticProblem, w: Float64Array): number {
    const { g, n, priorPrecision, priorScale } = problem;
    const active = problem.active ?? null;
    const p = this.p;
    const z = this.#z;
    const e = this.#e;
    const gradient = this.#gradient;
    gradient.fill(0);
    for (let j = 0; j < n; j++) {
      if (active !== null && active[j] === 0) continue;
      // σ(−z_j) = 1 − σ(z_j) without cancellation.
      const residual = z[j] >= 0 ? e[j] / (1 + e[j]) : 1 / (1 + e[j]);
      const offset = j * p;
      for (let i = 0; i < p; i++) gradient[i] += residual * g[offset + i];
    }
    const likelihoodNorm = norm2(gradient, p);
    const deviation = this.#deviation;
    const priorForce = this.#priorForce;
    for (let i = 0; i < p; i++) deviation[i] = w[i] - problem.priorMean[i];
    applyPrecision(priorPrecision, p, deviation, priorForce);
    let priorNormSquared = 0;
    for (let i = 0; i < p; i++) {
      const force = priorScale * priorForce[i];
      priorNormSquared += force * force;
      gradient[i] -= force;
    }
    return 1 + likelihoodNorm + Math.sqrt(priorNormSquared);
  }

  /** Fills the lower triangle of the negative Hessian at the current point. */
  #fillHessian(problem: LogisticProblem): void {
    const { g, n, priorPrecision, priorScale } = problem;
    const active = problem.active ?? null;
    const p = this.p;
    const e = this.#e;
    const hessian = this.#hessian;
    const offsets = this.#blockOffsets;
    const weights = this.#blockWeights;
    for (let i = 0; i < p; i++) {
      const row = i * p;
      if (priorPrecision === null) {
        hessian.fill(0, row, row + i);
        hessian[row + i] = priorScale;
      } else {
        for (let k = 0; k <= i; k++) hessian[row + k] = priorScale * priorPrecision[row + k];
      }
    }
    let pending = 0;
    for (let j = 0; j < n; j++) {
      if (active !== null && active[j] === 0) continue;
      const onePlusE = 1 + e[j];
      // σ(z_j)·σ(−z_j) = e^{−|z|}/(1 + e^{−|z|})².
      offsets[pending] = j * p;
      weights[pending] = e[j] / (onePlusE * onePlusE);
      if (++pending === 4) {
        addWeightedOuterLower4(
          hessian,
          p,
          g,
          offsets[0],
          weights[0],
          offsets[1],
          weights[1],
          offsets[2],
          weights[2],
          offsets[3],
          weights[3],
        );
        pending = 0;
      }
    }
    for (let r = 0; r < pending; r++) addWeightedOuterLower(hessian, p, g, offsets[r], weights[r]);
  }
}

function applyPrecision(
  precision: Float64Array | null,
  p: number,
  x: Float64Array,
  out: Float64Array,
): Float64Array {
  if (precision === null) {
    out.set(x.subarray(0, p));
    return out;
  }
  return matVec(precision, p, x, out);
}
