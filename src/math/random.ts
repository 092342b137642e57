/**
 * The project's seeded generators. None is for anything security-related, and each one's exact
 * stream is load-bearing (its comment says for what), so none may change its arithmetic: the
 * pinned values in test/math/random.test.ts tell when one does.
 */

/** A seeded stream of uniform 32-bit words and of floats in [0, 1). */
export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1); how many random bits it carries depends on the generator. */
  nextUnit(): number;
}

const GOLDEN_GAMMA = 0x9e37_79b9;
const TWO_POW_24 = 16_777_216;
const TWO_POW_32 = 4_294_967_296;
const MAX_UINT32 = 0xffff_ffff;

/**
 * Output number `index` of the splitmix32 sequence that starts at `seed`: a well-mixed 32-bit
 * hash, with which every generator here seeds its state or derives sub-streams.
 */
export function splitmix32(seed: number, index = 0): number {
  let z = (seed + Math.imul(index + 1, GOLDEN_GAMMA)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function assertUint32Seed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_UINT32) {
    throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
}

/**
 * mulberry32, with Box–Muller normals. Its streams feed the trainer (initial factors, the share-A
 * start), the train/validation split of each user, the planted pair statistics of tests and
 * benches, and the new-user curves: the default head in models/default/head and the figures in
 * docs/ are reproduced from them.
 */
export class SeededRandom implements Rng {
  #state: number;
  #spareGaussian: number | null = null;

  constructor(seed: number) {
    assertUint32Seed(seed);
    this.#state = seed | 0;
  }

  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b_79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 32 random bits. */
  nextUnit(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Standard normal; each Box–Muller draw yields two, the second kept for the next call. */
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

/** Seed of sub-stream `stream` of `seed`, for a SeededRandom independent of the other streams. */
export function deriveSeed(seed: number, stream: number): number {
  return splitmix32(seed, stream);
}

/**
 * sfc32 (128-bit state). `stream` derives independent sequences from one seed, so that each part
 * of a data set draws from its own stream. Its streams are the synthetic data sets (`sharelora
 * synth`, the feature synth), among them the data the default head is trained on.
 */
export class Sfc32Random implements Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
      throw new TypeError(`expected integer seed and stream, got ${seed} and ${stream}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let h = splitmix32(lo ^ splitmix32(hi ^ splitmix32(stream >>> 0)));
    this.#a = h = splitmix32(h);
    this.#b = h = splitmix32(h);
    this.#c = h = splitmix32(h);
    this.#d = splitmix32(h);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** 53 random bits, from two words. */
  nextUnit(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new TypeError(`expected a positive integer, got ${n}`);
    return Math.floor(this.nextUnit() * n);
  }

  /** Standard normal: one Box–Muller draw per call, its second value dropped. */
  gaussian(): number {
    const u = 1 - this.nextUnit();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.nextUnit());
  }

  bernoulli(p: number): boolean {
    return this.nextUnit() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TypeError("expected a non-empty list to pick from");
    return items[this.int(items.length)]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * xoshiro128** seeded by splitmix32. Only integer ops and exactly rounded float arithmetic are
 * used, so streams are bit-identical on every platform and Node version: the default backbone's
 * weights (models/default, whose sha256 is pinned in tests) and the load tests' adapters and
 * texts are drawn from it.
 */
class Xoshiro128StarStar implements Rng {
  #s: Int32Array;

  constructor(seed: number) {
    this.#s = Int32Array.from({ length: 4 }, (_, i) => splitmix32(seed, i));
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

  /** 24 random bits, so the value is exactly representable in float32. */
  nextUnit(): number {
    return (this.nextUint32() >>> 8) / TWO_POW_24;
  }
}

/** The xoshiro128** stream of `seed`. */
export function createRng(seed: number): Rng {
  assertUint32Seed(seed);
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

/** n independent normals N(0, scale²), in the order the generator draws them. */
export function gaussianVector(random: { gaussian(): number }, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * random.gaussian();
  return out;
}
