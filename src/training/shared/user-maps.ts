/**
 * Per-user linear maps T_u from a block of unknowns to a d×m parameter matrix, so that pair j of
 * user u scores ⟨Δ_j, Σ_blocks T_u(w_block)⟩. Every factorized head the trainer fits is a sum of
 * these: Θ0 (identity), V·W_u (shared V, fixed personal W_u) and B_u·A (fixed personal B_u,
 * shared A).
 */
import { addProduct, addTransposedProduct } from "../../math/matrix-product.js";

export interface UserMap {
  readonly size: number;
  /** theta (d×m) += T_u(w[offset .. offset+size)). */
  expand(user: number, w: Float64Array, offset: number, theta: Float64Array): void;
  /** out[offset .. offset+size) += T_uᵀ(s), s d×m. */
  contract(user: number, s: Float64Array, out: Float64Array, offset: number): void;
  /**
   * out[offset .. offset+size) += Σ_j c[j]·(T_uᵀΔ_j)∘(T_uᵀΔ_j) over the rows start ≤ j < end of
   * `deltas` (n × d·m): user u's pairs and their curvature weights.
   */
  addSquaredContractions(
    user: number,
    deltas: Float64Array,
    start: number,
    end: number,
    c: Float64Array,
    out: Float64Array,
    offset: number,
  ): void;
}

/** Dimensions of a factorized d×m parameter: a d×k and a k×m factor. */
interface FactorShape {
  readonly d: number;
  readonly k: number;
  readonly m: number;
}

/** T_u(w) = w: the same d×m matrix for every user (Θ0, or a user's own Θ). */
export class IdentityMap implements UserMap {
  readonly size: number;

  constructor(d: number, m: number) {
    this.size = d * m;
  }

  expand(_user: number, w: Float64Array, offset: number, theta: Float64Array): void {
    const size = this.size;
    for (let i = 0; i < size; i++) theta[i] += w[offset + i];
  }

  contract(_user: number, s: Float64Array, out: Float64Array, offset: number): void {
    const size = this.size;
    for (let i = 0; i < size; i++) out[offset + i] += s[i];
  }

  addSquaredContractions(
    _user: number,
    deltas: Float64Array,
    start: number,
    end: number,
    c: Float64Array,
    out: Float64Array,
    offset: number,
  ): void {
    const size = this.size;
    for (let j = start; j < end; j++) {
      const cj = c[j];
      const row = j * size;
      for (let i = 0; i < size; i++) {
        const x = deltas[row + i];
        out[offset + i] += cj * x * x;
      }
    }
  }
}

/**
 * T_u(V) = V·F_u with V d×k unknown (V[i*k + a]) and F_u k×m fixed per user (F[a*m + c]).
 * Row i of T_uᵀΔ = Δ·F_uᵀ depends on row i of Δ only, so Σ_j c_j (T_uᵀΔ_j)² goes through the
 * per-row m×m moments Σ_j c_j Δ_j[i,:]ᵀΔ_j[i,:] — d·m² per pair instead of d·k·m.
 */
export class RightFactorMap implements UserMap {
  readonly size: number;
  readonly #shape: FactorShape;
  readonly #factors: readonly Float64Array[];
  readonly #moments: Float64Array;

  constructor(d: number, k: number, m: number, factors: readonly Float64Array[]) {
    this.size = d * k;
    this.#shape = { d, k, m };
    this.#factors = factors;
    this.#moments = new Float64Array(d * m * m);
  }

  expand(user: number, w: Float64Array, offset: number, theta: Float64Array): void {
    const { d, k, m } = this.#shape;
    addProduct(w, offset, this.#factors[user], 0, d, k, m, theta);
  }

  contract(user: number, s: Float64Array, out: Float64Array, offset: number): void {
    const { d, k, m } = this.#shape;
    const f = this.#factors[user];
    for (let i = 0; i < d; i++) {
      const sRow = i * m;
      const oRow = offset + i * k;
      for (let a = 0; a < k; a++) {
        const fRow = a * m;
        let sum = 0;
        for (let c = 0; c < m; c++) sum += s[sRow + c] * f[fRow + c];
        out[oRow + a] += sum;
      }
    }
  }

  addSquaredContractions(
    user: number,
    deltas: Float64Array,
    start: number,
    end: number,
    c: Float64Array,
    out: Float64Array,
    offset: number,
  ): void {
    const { d, k, m } = this.#shape;
    const mm = m * m;
    const f = this.#factors[user];
    const moments = this.#moments;
    moments.fill(0);
    for (let j = start; j < end; j++) {
      const cj = c[j];
      if (cj === 0) continue;
      const row = j * d * m;
      for (let i = 0; i < d; i++) {
        const x = row + i * m;
        const t = i * mm;
        for (let r = 0; r < m; r++) {
          const scaled = cj * deltas[x + r];
          for (let s = 0; s < m; s++) moments[t + r * m + s] += scaled * deltas[x + s];
        }
      }
    }
    for (let i = 0; i < d; i++) {
      const t = i * mm;
      const oRow = offset + i * k;
      for (let a = 0; a < k; a++) {
        const fRow = a * m;
        let sum = 0;
        for (let r = 0; r < m; r++) {
          let inner = 0;
          for (let s = 0; s < m; s++) inner += moments[t + r * m + s] * f[fRow + s];
          sum += f[fRow + r] * inner;
        }
        out[oRow + a] += sum;
      }
    }
  }
}

/** T_u(A) = F_u·A with A k×m unknown (A[a*m + c]) and F_u d×k fixed per user (F[i*k + a]). */
export class LeftFactorMap implements UserMap {
  readonly size: number;
  readonly #shape: FactorShape;
  readonly #factors: readonly Float64Array[];
  readonly #projection: Float64Array;

  constructor(d: number, k: number, m: number, factors: readonly Float64Array[]) {
    this.size = k * m;
    this.#shape = { d, k, m };
    this.#factors = factors;
    this.#projection = new Float64Array(k * m);
  }

  expand(user: number, w: Float64Array, offset: number, theta: Float64Array): void {
    const { d, k, m } = this.#shape;
    addProduct(this.#factors[user], 0, w, offset, d, k, m, theta);
  }

  contract(user: number, s: Float64Array, out: Float64Array, offset: number): void {
    const { d, k, m } = this.#shape;
    addTransposedProduct(this.#factors[user], d, k, m, s, 0, out, offset);
  }

  addSquaredContractions(
    user: number,
    deltas: Float64Array,
    start: number,
    end: number,
    c: Float64Array,
    out: Float64Array,
    offset: number,
  ): void {
    const { d, k, m } = this.#shape;
    const q = d * m;
    const g = this.#projection;
    const f = this.#factors[user];
    for (let j = start; j < end; j++) {
      const cj = c[j];
      if (cj === 0) continue;
      g.fill(0);
      addTransposedProduct(f, d, k, m, deltas, j * q, g, 0);
      for (let i = 0; i < g.length; i++) out[offset + i] += cj * g[i] * g[i];
    }
  }
}
