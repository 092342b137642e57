/**
 * The product B·W_u (B d×k shared, W_u k×m per user) is invariant under B → B·R, W_u → R⁻¹·W_u.
 * Of all such factorizations, the one minimizing λ_B‖B‖² + λ_W Σ_u‖W_u‖² is balanced along the
 * SVD of B·[W_1 … W_U] = Q·U·S·Vᵀ: B = Q·U·diag(β), W = diag(1/β)·S·Vᵀ with β_a² = s_a·√(λ_W/λ_B),
 * where the penalty equals 2√(λ_Bλ_W)·Σ s_a (a nuclear norm). Balancing after each B step thus
 * never lowers the training objective and removes the scale ambiguity.
 */
import { multiplyLeadingColumns } from "../../math/matrix-product.js";
import { symmetricEigen } from "../../math/symmetric-eigen.js";
import { thinQr } from "../../math/thin-qr.js";

export interface PrincipalFactors {
  /** d×k row-major, orthonormal columns ordered by decreasing singular value. */
  basis: Float64Array;
  /** Singular values of B·[W_1 … W_U], descending. */
  singular: Float64Array;
  /** Per user, k×m: W_u expressed in `basis` (basis·coefficients_u = B·W_u). */
  coefficients: Float64Array[];
}

/** Relative floor on s_a for β_a, so a direction with no weight keeps a (tiny) nonzero column. */
const SINGULAR_FLOOR = 1e-9;

export function principalFactors(
  B: Float64Array,
  W: readonly Float64Array[],
  d: number,
  k: number,
  m: number,
): PrincipalFactors {
  const { q, r } = thinQr(B, d, k);
  const c = W.map((w) => {
    const out = new Float64Array(k * m);
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        const rab = r[a * k + b];
        if (rab === 0) continue;
        for (let col = 0; col < m; col++) out[a * m + col] += rab * w[b * m + col];
      }
    }
    return out;
  });
  const gram = new Float64Array(k * k);
  for (const cu of c) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let col = 0; col < m; col++) s += cu[a * m + col] * cu[b * m + col];
        gram[a * k + b] += s;
      }
    }
  }
  const { values, vectors } = symmetricEigen(gram, k);
  const basis = multiplyLeadingColumns(q, vectors, d, k, k);
  const coefficients = c.map((cu) => {
    const out = new Float64Array(k * m);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const v = vectors[b * k + a];
        for (let col = 0; col < m; col++) out[a * m + col] += v * cu[b * m + col];
      }
    }
    return out;
  });
  const singular = values.map((v) => Math.sqrt(Math.max(0, v)));
  return { basis, singular, coefficients };
}

/** Rewrites B and every W_u in place into the balanced factorization (products unchanged). */
export function balanceFactors(
  B: Float64Array,
  W: readonly Float64Array[],
  d: number,
  k: number,
  m: number,
  lambdaB: number,
  lambdaW: number,
): void {
  const { basis, singular, coefficients } = principalFactors(B, W, d, k, m);
  if (!(singular[0] > 0)) return;
  const alpha = Math.sqrt(Math.sqrt(lambdaW / lambdaB));
  const floor = SINGULAR_FLOOR * singular[0];
  const beta = singular.map((s) => alpha * Math.sqrt(Math.max(s, floor)));
  for (let i = 0; i < d; i++) {
    for (let a = 0; a < k; a++) B[i * k + a] = basis[i * k + a] * beta[a];
  }
  W.forEach((w, u) => {
    const cu = coefficients[u];
    for (let a = 0; a < k; a++) {
      for (let col = 0; col < m; col++) w[a * m + col] = cu[a * m + col] / beta[a];
    }
  });
}
