/**
 * Seeded integer PRNG (xoshiro128** seeded by splitmix32). Only integer ops and exactly rounded
 * float arithmetic are used, so streams are bit-identical on every platform and Node version.
 */
export interface Rng {
  /** Next uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Next uniform float in [0, 1) with 24 random bits (exactly representable in float32). */
  nextUnit(): number;
}

const TWO_POW_24 = 16_777_216;
const MAX_UINT32 = 0xffff_ffff;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e37_79b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

class Xoshiro128StarStar implements Rng {
  #s: Int32Array;

  constructor(seed: number) {
    const next = splitmix32(seed);
    this.#s = Int32Array.of(next(), next(), next(), next());
    if (this.#s.every((word) => word === 0)) this.#s[0] = 1;
  }

  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  nextUnit(): number {
    return (this.nextUint32() >>> 8) / TWO_POW_24;
  }
}

export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_UINT32) {
    throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  return new Xoshiro128StarStar(seed);
}

/** n float32 values uniform in [-scale, scale). */
export function uniformFill(rng: Rng, n: number, scale: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new TypeError(`n: expected a non-negative integer, got ${String(n)}`);
  }
  if (!Number.isFinite(scale) || scale < 0) {
    throw new TypeError(`scale: expected a finite non-negative number, got ${String(scale)}`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.nextUnit() - 1) * scale;
  return out;
}
