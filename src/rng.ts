/**
 * A small seeded PRNG (mulberry32 over a 32-bit FNV-1a hash of the seed), so cases, fixtures and
 * per-student variants are reproducible from a number or a string.
 */
export function hashSeed(seed: number | string): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private state: number;
  constructor(seed: number | string = 0) {
    this.state = hashSeed(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  /** A float32-representable value in [-r, r] with few significant bits, so hand checks stay easy. */
  float32(r = 1): number {
    return Math.fround((this.next() * 2 - 1) * r);
  }
  /** Values that are small multiples of 1/8 (exact in every precision): good for readable cases. */
  dyadic(r = 4): number {
    return Math.round((this.next() * 2 - 1) * r * 8) / 8;
  }
}
