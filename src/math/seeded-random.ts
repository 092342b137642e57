/**
 * Tiny deterministic PRNG for synthetic data: mulberry32 for uniforms, Box–Muller for normals.
 * Not for anything security-related.
 */
export class SeededRandom {
  #state: number;
  #spareGaussian: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
    }
    this.#state = seed | 0;
  }

  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b_79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  nextUnit(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** Standard normal. */
  gaussian(): number {
    const spare = this.#spareGaussian;
    if (spare !== null) {
      this.#spareGaussian = null;
      return spare;
    }
    const u1 = 1 - this.nextUnit();
    const u2 = this.nextUnit();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.#spareGaussian = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

/** Derives an independent-looking seed for a sub-stream (splitmix32 finalizer). */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seed + Math.imul(stream + 1, 0x9e37_79b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
