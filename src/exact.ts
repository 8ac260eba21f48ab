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

/**
 * A certified fast path for the sums of products of the reference's matrix ops when every input is
 * float32-valued (so every product a·b is exact in float64): two-level extraction (Rump, Ogita and
 * Oishi, "Accurate floating-point summation", ExtractScalar) with a global σ = 2^k ≥ 2^M·P, where
 * P bounds every |term| and 2^M ≥ n (terms per sum). Per term p:
 *
 *   q = (p + σ) − σ   (exact: q ∈ 2^(k−53)ℤ, |q| ≤ 2^(k−M)),   r = p − q   (exact, |r| ≤ 2^(k−53))
 *   s1 += q           (exact: every partial sum is a multiple of 2^(k−53) below 2^k)
 *   s2 += r           (rounded: |error| ≤ γₙ·Σ|r| ≤ δ = n²·2^(k−105))
 *
 * so the exact sum is T = s1 + s2 + e with |e| ≤ δ. `round(s1, s2)` returns v = fl(s1 + s2) only when
 * it can prove v is the correctly rounded T (T inside v's rounding interval, ties excluded), and NaN
 * otherwise: the caller then recomputes that one sum with ExactSum. No approximation is ever
 * returned: the answer is the same correctly rounded value as ExactSum's.
 */
export class CertifiedSum {
  /** σ, or NaN when the fast path does not apply (the caller must use ExactSum). */
  readonly sigma: number;
  private readonly delta: number;
  private readonly f = new Float64Array(1);
  private readonly u = new Uint32Array(this.f.buffer);

  /**
   * True when s2 is exact too: every term is a multiple of 2^lowBit and the residuals' sums stay
   * below 2^(lowBit+53). Then s1 + s2 is the exact sum and fl(s1 + s2) its correct rounding (ties to
   * even included), with nothing to certify.
   */
  readonly exact: boolean;

  /**
   * `maxTerm` bounds |term| of every sum (the products and the bias); `n` bounds the terms per sum;
   * every term is an integer multiple of 2^`lowBit` (−Infinity when unknown).
   */
  constructor(maxTerm: number, n: number, lowBit = -Infinity) {
    let M = 0;
    while (2 ** M < n + 1) M++;
    const k = maxTerm > 0 && Number.isFinite(maxTerm) ? Math.ceil(Math.log2(maxTerm)) + 1 + M : NaN;
    // far from under/overflow of the residuals and δ (float32 products lie in [2^-298, 2^256])
    const ok = Number.isFinite(k) && k > -800 && k < 900 && n < 2 ** 24;
    this.sigma = ok ? 2 ** k : NaN;
    this.delta = ok ? 2 * n * n * 2 ** (k - 105) : NaN;
    this.exact = ok && (lowBit > k - 53 || n * 2 ** (k - 53) <= 2 ** (lowBit + 53));
  }

  /**
   * For each array: whether every value is a finite float32 (so products are exact in float64), and
   * then [largest |value|, e] with every value an integer multiple of 2^e (e the lowest set bit).
   */
  static float32Stats(...arrays: (ArrayLike<number> | undefined)[]): [number, number][] | undefined {
    const f = new Float64Array(1);
    const u = new Uint32Array(f.buffer);
    const out: [number, number][] = [];
    for (const a of arrays) {
      let m = 0;
      let low = Infinity;
      if (a) {
        for (let i = 0; i < a.length; i++) {
          const v = a[i];
          if (Math.fround(v) !== v || v === Infinity || v === -Infinity) return undefined;
          if (v === 0) continue;
          const av = v < 0 ? -v : v;
          if (av > m) m = av;
          f[0] = av;
          const lo = u[0];
          const hi = u[1];
          const ex = hi >>> 20; // float32 values are normal doubles
          const tz = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32((hi & 0xfffff | 0x100000) & -(hi & 0xfffff | 0x100000));
          const bit = ex - 1075 + tz;
          if (bit < low) low = bit;
        }
      }
      out.push([m, low]);
    }
    return out;
  }

  /** The correctly rounded s1 + s2 + e (|e| ≤ δ), or NaN when that cannot be certified. */
  round(s1: number, s2: number): number {
    const v = s1 + s2;
    if (this.exact) return v;
    const bv = v - s1;
    const t = s1 - (v - bv) + (s2 - bv); // TwoSum: s1 + s2 = v + t exactly
    const a = v < 0 ? -v : v;
    if (!(a >= 2 ** -900)) return NaN; // zero (cancellation or all-zero terms), tiny, or NaN
    this.f[0] = a;
    const hi = this.u[1];
    const e = ((hi >>> 20) & 0x7ff) - 1023;
    const pow2 = (hi & 0xfffff) === 0 && this.u[0] === 0;
    const halfUp = 2 ** (e - 53); // half the gap to the next double away from zero
    const halfDown = pow2 ? 2 ** (e - 54) : halfUp; // half the gap towards zero
    const tt = v < 0 ? -t : t; // the residual measured away from zero
    // rounding is monotonic, so these float comparisons imply the exact ones
    return tt + this.delta < halfUp && tt - this.delta > -halfDown ? v : NaN;
  }
}
