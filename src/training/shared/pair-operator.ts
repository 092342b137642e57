/**
 * The LinearOperator of a factorized head over a DeltaStack: unknowns are the concatenated blocks
 * of the user maps, and pair j of user u scores ⟨Δ_j, M_u⟩ with M_u = Σ_blocks T_u(w_block).
 * Forward products expand M_u once per user and then cost one d·m dot product per pair; adjoint
 * products accumulate S_u = Σ_j r_j Δ_j per user and contract it once.
 */

import type { LinearOperator } from "../../math/linear-operator.js";
import type { DeltaStack } from "./delta-stack.js";
import type { UserMap } from "./user-maps.js";

export class PairOperator implements LinearOperator {
  readonly n: number;
  readonly p: number;
  readonly #stack: DeltaStack;
  readonly #maps: readonly UserMap[];
  readonly #offsets: readonly number[];
  readonly #userMatrix: Float64Array;

  constructor(stack: DeltaStack, maps: readonly UserMap[]) {
    this.#stack = stack;
    this.#maps = maps;
    const offsets: number[] = [];
    let p = 0;
    for (const map of maps) {
      offsets.push(p);
      p += map.size;
    }
    this.#offsets = offsets;
    this.n = stack.n;
    this.p = p;
    this.#userMatrix = new Float64Array(stack.d * stack.m);
  }

  /** Offset of block `index` inside w. */
  blockOffset(index: number): number {
    return this.#offsets[index];
  }

  apply(w: Float64Array, out: Float64Array): void {
    const { deltas, userStart, users } = this.#stack;
    const theta = this.#userMatrix;
    const q = theta.length;
    for (let u = 0; u < users; u++) {
      const start = userStart[u];
      const end = userStart[u + 1];
      if (start === end) continue;
      theta.fill(0);
      for (let b = 0; b < this.#maps.length; b++)
        this.#maps[b].expand(u, w, this.#offsets[b], theta);
      for (let j = start; j < end; j++) {
        const row = j * q;
        let s = 0;
        for (let i = 0; i < q; i++) s += deltas[row + i] * theta[i];
        out[j] = s;
      }
    }
  }

  applyTranspose(r: Float64Array, out: Float64Array): void {
    const { deltas, userStart, users } = this.#stack;
    const s = this.#userMatrix;
    const q = s.length;
    out.fill(0);
    for (let u = 0; u < users; u++) {
      const start = userStart[u];
      const end = userStart[u + 1];
      if (start === end) continue;
      s.fill(0);
      for (let j = start; j < end; j++) {
        const rj = r[j];
        if (rj === 0) continue;
        const row = j * q;
        for (let i = 0; i < q; i++) s[i] += rj * deltas[row + i];
      }
      for (let b = 0; b < this.#maps.length; b++)
        this.#maps[b].contract(u, s, out, this.#offsets[b]);
    }
  }

  squaredTranspose(c: Float64Array, out: Float64Array): void {
    const { deltas, userStart, users } = this.#stack;
    out.fill(0);
    for (let u = 0; u < users; u++) {
      const start = userStart[u];
      const end = userStart[u + 1];
      if (start === end) continue;
      for (let b = 0; b < this.#maps.length; b++) {
        this.#maps[b].addSquaredContractions(u, deltas, start, end, c, out, this.#offsets[b]);
      }
    }
  }
}
