/**
 * Truncated Newton (Newton–CG) with a preconditioned conjugate-gradient inner solve (Jacobi unless
 * the problem brings its own preconditioner) and an Armijo line search, for ridge-penalized
 * Bradley–Terry logistic regression
 *
 *   f(w) = Σ_j log σ(o_j + x_j·w) − ½ Σ_i λ_i w_i²   (λ_i > 0)
 *
 * where the rows x_j are only reachable through a LinearOperator. It needs products with X and
 * Xᵀ only, so problems with thousands of unknowns never form a Hessian. Scores are linear in w,
 * so the line search reuses X·step and costs no operator application per trial.
 */
import type { LinearOperator } from "./linear-operator.js";

/** M⁻¹·r for a symmetric positive-definite M close to the Hessian. */
export interface Preconditioner {
  apply(residual: Float64Array, out: Float64Array): void;
}

export interface RidgeLogisticProblem {
  operator: LinearOperator;
  /** o_j, or null for none. */
  offset: Float64Array | null;
  /** λ_i > 0 per unknown. */
  penalty: Float64Array;
  /** Replaces the Jacobi (diagonal) preconditioner when given. */
  preconditioner?: Preconditioner;
}

export interface NewtonCgSettings {
  /** Stop when ‖∇f‖ ≤ tolerance · (1 + ‖∇ log-likelihood‖ + ‖λ∘w‖). */
  tolerance: number;
  maxIterations: number;
  maxCgIterations: number;
}

export interface NewtonCgOutcome {
  iterations: number;
  cgIterations: number;
  objective: number;
  logLikelihood: number;
  gradNorm: number;
  converged: boolean;
}

export const DEFAULT_NEWTON_CG: NewtonCgSettings = Object.freeze({
  tolerance: 1e-6,
  maxIterations: 50,
  maxCgIterations: 200,
});

const ARMIJO = 1e-4;
const MAX_HALVINGS = 40;
/** Gains below this fraction of |f| are beyond float64 resolution of f: take the step unchecked. */
const UNRESOLVABLE_GAIN = 1e-12;

export class NewtonCgSolver {
  #n = -1;
  #p = -1;
  #z = new Float64Array(0);
  #zStep = new Float64Array(0);
  #residualWeight = new Float64Array(0);
  #curvature = new Float64Array(0);
  #scratchN = new Float64Array(0);
  #gradient = new Float64Array(0);
  #step = new Float64Array(0);
  #cgResidual = new Float64Array(0);
  #preconditioned = new Float64Array(0);
  #direction = new Float64Array(0);
  #hessianDirection = new Float64Array(0);
  #diagonal = new Float64Array(0);

  /** Maximizes f from `w`, which is overwritten with the result. */
  solve(
    problem: RidgeLogisticProblem,
    w: Float64Array,
    settings = DEFAULT_NEWTON_CG,
  ): NewtonCgOutcome {
    const { operator, offset, penalty } = problem;
    const { n, p } = operator;
    if (w.length !== p || penalty.length !== p) {
      throw new TypeError(`w and penalty: expected length p = ${p}`);
    }
    if (offset !== null && offset.length !== n) {
      throw new TypeError(`offset: expected length n = ${n}`);
    }
    this.#ensure(n, p);
    const z = this.#z;
    const zStep = this.#zStep;
    const gradient = this.#gradient;
    const step = this.#step;

    operator.apply(w, z);
    if (offset !== null) for (let j = 0; j < n; j++) z[j] += offset[j];
    let iterations = 0;
    let cgIterations = 0;
    let converged = false;
    let logLikelihood = 0;
    let gradNorm = Number.POSITIVE_INFINITY;
    for (;;) {
      logLikelihood = this.#weigh(n);
      operator.applyTranspose(this.#residualWeight, gradient);
      let likelihoodSquared = 0;
      let priorSquared = 0;
      let gradSquared = 0;
      for (let i = 0; i < p; i++) {
        const force = penalty[i] * w[i];
        likelihoodSquared += gradient[i] * gradient[i];
        priorSquared += force * force;
        gradient[i] -= force;
        gradSquared += gradient[i] * gradient[i];
      }
      gradNorm = Math.sqrt(gradSquared);
      const scale = 1 + Math.sqrt(likelihoodSquared) + Math.sqrt(priorSquared);
      if (gradNorm <= settings.tolerance * scale) {
        converged = true;
        break;
      }
      if (iterations >= settings.maxIterations) break;
      iterations++;
      const forcing = Math.min(0.5, Math.sqrt(gradNorm / scale));
      cgIterations += this.#conjugateGradient(
        problem,
        forcing * gradNorm,
        settings.maxCgIterations,
      );
      operator.apply(step, zStep);

      let gain = 0;
      let ww = 0;
      let ws = 0;
      let ss = 0;
      for (let i = 0; i < p; i++) {
        gain += gradient[i] * step[i];
        ww += penalty[i] * w[i] * w[i];
        ws += penalty[i] * w[i] * step[i];
        ss += penalty[i] * step[i] * step[i];
      }
      const objective = logLikelihood - 0.5 * ww;
      if (!(gain > 0)) break;
      let t = 1;
      let accepted = false;
      if (gain <= UNRESOLVABLE_GAIN * (1 + Math.abs(objective))) {
        accepted = true;
      } else {
        for (let halving = 0; halving < MAX_HALVINGS; halving++) {
          const trial = this.#trialLogLikelihood(n, t) - 0.5 * (ww + 2 * t * ws + t * t * ss);
          if (trial >= objective + ARMIJO * t * gain) {
            accepted = true;
            break;
          }
          t *= 0.5;
        }
      }
      if (!accepted) break;
      for (let i = 0; i < p; i++) w[i] += t * step[i];
      for (let j = 0; j < n; j++) z[j] += t * zStep[j];
    }
    let ww = 0;
    for (let i = 0; i < p; i++) ww += penalty[i] * w[i] * w[i];
    return {
      iterations,
      cgIterations,
      objective: logLikelihood - 0.5 * ww,
      logLikelihood,
      gradNorm,
      converged,
    };
  }

  #ensure(n: number, p: number): void {
    if (n > this.#n) {
      this.#n = n;
      [this.#z, this.#zStep, this.#residualWeight, this.#curvature, this.#scratchN] = zeros(5, n);
    }
    if (p !== this.#p) {
      this.#p = p;
      [
        this.#gradient,
        this.#step,
        this.#cgResidual,
        this.#preconditioned,
        this.#direction,
        this.#hessianDirection,
        this.#diagonal,
      ] = zeros(7, p);
    }
  }

  /** From z: residual weights σ(−z_j), curvatures σ(z_j)σ(−z_j); returns Σ log σ(z_j). */
  #weigh(n: number): number {
    const z = this.#z;
    const residual = this.#residualWeight;
    const curvature = this.#curvature;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const zj = z[j];
      const e = Math.exp(-Math.abs(zj));
      const onePlusE = 1 + e;
      sum += Math.min(zj, 0) - Math.log1p(e);
      residual[j] = zj >= 0 ? e / onePlusE : 1 / onePlusE;
      curvature[j] = e / (onePlusE * onePlusE);
    }
    return sum;
  }

  #trialLogLikelihood(n: number, t: number): number {
    const z = this.#z;
    const zStep = this.#zStep;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const zj = z[j] + t * zStep[j];
      sum += Math.min(zj, 0) - Math.log1p(Math.exp(-Math.abs(zj)));
    }
    return sum;
  }

  /** Solves (XᵀCX + Λ)·step ≈ gradient to ‖residual‖ ≤ target; returns the CG iterations. */
  #conjugateGradient(problem: RidgeLogisticProblem, target: number, maxIterations: number): number {
    const { operator, penalty } = problem;
    const p = operator.p;
    const n = operator.n;
    const gradient = this.#gradient;
    const step = this.#step;
    const residual = this.#cgResidual;
    const preconditioned = this.#preconditioned;
    const direction = this.#direction;
    const hd = this.#hessianDirection;
    const diagonal = this.#diagonal;
    const curvature = this.#curvature;
    const scratch = this.#scratchN;

    const custom = problem.preconditioner;
    if (custom === undefined) {
      operator.squaredTranspose(curvature, diagonal);
      for (let i = 0; i < p; i++) diagonal[i] += penalty[i];
    }
    const precondition = () => {
      if (custom !== undefined) custom.apply(residual, preconditioned);
      else for (let i = 0; i < p; i++) preconditioned[i] = residual[i] / diagonal[i];
      let product = 0;
      for (let i = 0; i < p; i++) product += residual[i] * preconditioned[i];
      return product;
    };
    step.fill(0);
    residual.set(gradient);
    let rho = precondition();
    direction.set(preconditioned);
    let iterations = 0;
    while (iterations < maxIterations) {
      iterations++;
      operator.apply(direction, scratch);
      for (let j = 0; j < n; j++) scratch[j] *= curvature[j];
      operator.applyTranspose(scratch, hd);
      let curvatureAlong = 0;
      for (let i = 0; i < p; i++) {
        hd[i] += penalty[i] * direction[i];
        curvatureAlong += direction[i] * hd[i];
      }
      if (!(curvatureAlong > 0)) break;
      const alpha = rho / curvatureAlong;
      let residualSquared = 0;
      for (let i = 0; i < p; i++) {
        step[i] += alpha * direction[i];
        residual[i] -= alpha * hd[i];
        residualSquared += residual[i] * residual[i];
      }
      if (Math.sqrt(residualSquared) <= target) break;
      const rhoNext = precondition();
      const beta = rhoNext / rho;
      rho = rhoNext;
      for (let i = 0; i < p; i++) direction[i] = preconditioned[i] + beta * direction[i];
    }
    return iterations;
  }
}

function zeros(count: number, length: number): Float64Array<ArrayBuffer>[] {
  return Array.from({ length: count }, () => new Float64Array(length));
}
