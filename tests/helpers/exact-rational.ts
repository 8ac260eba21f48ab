/**
 * An independent exact oracle for tests: doubles as BigInt rationals m·2^e, sums of products
 * computed exactly in BigInt, and rounded to the nearest double (ties to even) by hand.
 */
const view = new DataView(new ArrayBuffer(8));
const SCALE = 2300n; // every product m1·m2·2^(e1+e2) has e1+e2 ≥ −2148

/** x = m · 2^e exactly (m a BigInt, possibly negative). */
export function decompose(x: number): { m: bigint; e: number } {
  if (!Number.isFinite(x)) throw new Error('finite values only');
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  return { m: sign * mant, e };
}

/** The exact value x·2^SCALE as an integer. */
function scaled(m: bigint, e: number): bigint {
  const s = BigInt(e) + SCALE;
  return s >= 0n ? m << s : m >> -s; // never shifts right for our inputs
}

/** Exact Σ aᵢ·bᵢ + Σ cⱼ, scaled by 2^SCALE. */
export function exactScaledSum(products: [number, number][], addends: number[] = []): bigint {
  let t = 0n;
  for (const [a, b] of products) {
    const da = decompose(a);
    const db = decompose(b);
    t += scaled(da.m * db.m, da.e + db.e);
  }
  for (const c of addends) {
    const d = decompose(c);
    t += scaled(d.m, d.e);
  }
  return t;
}

/** Rounds T·2^−SCALE to the nearest double, ties to even (normal range only). */
export function roundScaled(t: bigint): number {
  if (t === 0n) return 0;
  const neg = t < 0n;
  let a = neg ? -t : t;
  let shift = Math.max(0, a.toString(2).length - 53);
  if (shift > 0) {
    const rem = a & ((1n << BigInt(shift)) - 1n);
    a >>= BigInt(shift);
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (a & 1n) === 1n)) a += 1n;
  }
  // a ≤ 2^53 now, so Number(a) is exact; value = a · 2^(shift − SCALE), scaled in two exact steps
  const e = shift - Number(SCALE);
  const h = Math.trunc(e / 2);
  const v = Number(a) * Math.pow(2, h) * Math.pow(2, e - h);
  return neg ? -v : v;
}

/** The correctly rounded value of Σ aᵢ·bᵢ + Σ cⱼ. */
export function exactDotRounded(products: [number, number][], addends: number[] = []): number {
  return roundScaled(exactScaledSum(products, addends));
}
