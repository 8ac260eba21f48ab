/**
 * Error-free floating-point arithmetic.
 *
 * A sum of products Σ aᵢ·bᵢ is accumulated without any rounding error and rounded once at the end:
 * - each product is split exactly as aᵢ·bᵢ = p + e with Dekker's TwoProduct (Veltkamp splitting);
 * - p and e enter a Shewchuk expansion (non-overlapping partials, the algorithm of Python's
 *   `math.fsum`), which represents the running sum exactly;
 * - the final value is the correctly rounded (round-half-even) double of the exact sum.
 *
 * Valid as long as no product overflows and no product error term falls below 2⁻¹⁰²² (subnormal):
 * i.e. |aᵢ|,|bᵢ| in roughly [2⁻⁴⁸⁰, 2⁴⁸⁰] — every float32 value away from float32's own subnormals
 * satisfies this. Non-finite terms follow IEEE rules (∞ + −∞ = NaN, NaN wins).
 */

const SPLITTER = 134217729; // 2^27 + 1

/** Exact product: returns [p, e] with a·b = p + e exactly (p = fl(a·b)). */
export function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = ah * bh - p + ah * bl + al * bh + al * bl;
  return [p, e];
}

/**
 * An exact running sum. `add` and `addProduct` never round; `value()` rounds once.
 * Reusable: `reset()` clears it without allocating.
 */
export class ExactSum {
  private partials = new Float64Array(16);
  private n = 0;
  private special = 0; // sum of non-finite terms (IEEE semantics); 0 when none
  private hasSpecial = false;

  reset(): this {
    this.n = 0;
    this.special = 0;
    this.hasSpecial = false;
    return this;
  }

  add(x: number): this {
    if (!Number.isFinite(x)) {
      this.special = this.hasSpecial ? this.special + x : x;
      this.hasSpecial = true;
      return this;
    }
    if (x === 0) return this;
    const p = this.partials;
    let i = 0;
    for (let j = 0; j < this.n; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    if (i >= p.length) {
      const bigger = new Float64Array(p.length * 2);
      bigger.set(p);
      this.partials = bigger;
    }
    this.partials[i] = x;
    this.n = i + 1;
    return this;
  }

  /** Adds a·b exactly (twoProduct inlined: this is the reference's innermost loop). */
  addProduct(a: number, b: number): this {
    const p = a * b;
    if (!Number.isFinite(p) || !Number.isFinite(a) || !Number.isFinite(b)) {
      return this.add(p);
    }
    let t = SPLITTER * a;
    const ah = t - (t - a);
    const al = a - ah;
    t = SPLITTER * b;
    const bh = t - (t - b);
    const bl = b - bh;
    const e = ah * bh - p + ah * bl + al * bh + al * bl;
    this.add(p);
    if (e !== 0) this.add(e);
    return this;
  }

  /** The exact sum rounded to the nearest double (ties to even), as CPython's fsum. */
  value(): number {
    if (this.hasSpecial) return this.special;
    const p = this.partials;
    let n = this.n;
    if (n === 0) return 0;
    let hi = p[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    // Half-way case: the rest of the partials decide the direction of rounding.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
    return hi;
  }
}

/** Correctly rounded Σ xs. */
export function fsum(xs: Iterable<number>): number {
  const s = new ExactSum();
  for (const x of xs) s.add(x);
  return s.value();
}

/** Correctly rounded Σ aᵢ·bᵢ. */
export function exactDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const s = new ExactSum();
  for (let i = 0; i < a.length; i++) s.addProduct(a[i], b[i]);
  return s.value();
}
