/**
 * Exact rational arithmetic on BigInt, for the reference's discrete decisions (which sample of a
 * RoIAlign bin falls inside the map, which bin row a RoIPool bin starts at, whether an IoU exceeds
 * the NMS threshold). Every finite double is a rational m·2^e, so a decision taken here is the
 * exact-arithmetic decision on the given inputs, never the float64 one.
 *
 * Values are kept reduced (gcd) with a positive denominator. Only finite doubles can be converted
 * in; callers keep the IEEE path for NaN/∞.
 */

export interface Q {
  n: bigint;
  d: bigint;
}

const view = new DataView(new ArrayBuffer(8));

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  while (b) [a, b] = [b, a % b];
  return a;
}

function make(n: bigint, d: bigint): Q {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

/** The exact value of a finite double. */
export function q(x: number): Q {
  if (!Number.isFinite(x)) throw new RangeError(`rational: ${x} is not finite`);
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) return { n: BigInt(x), d: 1n };
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
  return e >= 0 ? { n: sign * (mant << BigInt(e)), d: 1n } : make(sign * mant, 1n << BigInt(-e));
}

export const add = (a: Q, b: Q): Q => (a.d === b.d ? make(a.n + b.n, a.d) : make(a.n * b.d + b.n * a.d, a.d * b.d));
export const sub = (a: Q, b: Q): Q => (a.d === b.d ? make(a.n - b.n, a.d) : make(a.n * b.d - b.n * a.d, a.d * b.d));
export const mul = (a: Q, b: Q): Q => make(a.n * b.n, a.d * b.d);
export function div(a: Q, b: Q): Q {
  if (b.n === 0n) throw new RangeError('rational: division by zero');
  return make(a.n * b.d, a.d * b.n);
}
/** −1, 0 or 1 as a < b, a = b, a > b. */
export function cmp(a: Q, b: Q): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}
export const max = (a: Q, b: Q): Q => (cmp(a, b) >= 0 ? a : b);
export const min = (a: Q, b: Q): Q => (cmp(a, b) <= 0 ? a : b);
export const int = (k: number): Q => ({ n: BigInt(k), d: 1n });

/** ⌊a⌋ (towards −∞). */
export function floor(a: Q): bigint {
  const t = a.n / a.d; // BigInt division truncates towards 0
  return a.n < 0n && t * a.d !== a.n ? t - 1n : t;
}
/** ⌈a⌉. */
export const ceil = (a: Q): bigint => -floor({ n: -a.n, d: a.d });

/** C's round(): to the nearest integer, halves away from zero. */
export function roundHalfAway(a: Q): bigint {
  const abs: Q = { n: a.n < 0n ? -a.n : a.n, d: a.d };
  const r = floor(add(abs, { n: 1n, d: 2n }));
  return a.n < 0n ? -r : r;
}

const bits = (x: bigint): number => x.toString(2).length;

/**
 * The double nearest to a (ties to even), i.e. correctly rounded. Number(bigint) rounds to
 * nearest-even; the quotient is taken with ≥ 66 significant bits and its last bit made sticky
 * when the division is inexact, so that single rounding is the rounding of the exact value
 * (a sticky bit below the round bit cannot create or break a tie). Results in the normal range
 * only (the reference's weights and coordinates); underflow returns the nearest of 0 and the
 * value computed through scaling, which is within the subnormal spacing.
 */
export function toDouble(a: Q): number {
  if (a.n === 0n) return 0;
  const neg = a.n < 0n;
  const n = neg ? -a.n : a.n;
  const shift = Math.max(0, 66 - (bits(n) - bits(a.d)));
  const num = n << BigInt(shift);
  let quo = num / a.d;
  if (quo * a.d !== num) quo |= 1n;
  let v = Number(quo);
  let s = shift;
  while (s > 0) {
    const step = Math.min(s, 1000);
    v *= 2 ** -step;
    s -= step;
  }
  return neg ? -v : v;
}

/**
 * The exact value of the shortest decimal that reads back as x (JavaScript's String(x)): for a
 * threshold written in JSON as 0.6 this is 3/5, the number the user wrote, where q(0.6) is the
 * double just below it.
 */
export function decimal(x: number): Q {
  if (!Number.isFinite(x)) throw new RangeError(`rational: ${x} is not finite`);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!m) return q(x);
  const digits = BigInt(m[2] + (m[3] ?? ''));
  const e = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  const v = e >= 0 ? make(digits * 10n ** BigInt(e), 1n) : make(digits, 10n ** BigInt(-e));
  return m[1] ? { n: -v.n, d: v.d } : v;
}

function neighbour(x: number, up: boolean): number {
  if (x === 0) return up ? 5e-324 : -5e-324;
  view.setFloat64(0, x);
  let b = view.getBigUint64(0);
  b = (x > 0) === up ? b + 1n : b - 1n;
  view.setBigUint64(0, b);
  return view.getFloat64(0);
}

/** The rational with the smallest denominator (then numerator) strictly between a and b, 0 ≤ a < b. */
function simplestBetween(a: Q, b: Q | null): Q {
  const fl = floor(a);
  const c: Q = { n: fl + 1n, d: 1n };
  if (!b || cmp(c, b) < 0) return c;
  // a and b lie in [fl, fl + 1]: fl + 1/t with t simplest in (1/(b − fl), 1/(a − fl))
  const bf = sub(b, { n: fl, d: 1n });
  const af = sub(a, { n: fl, d: 1n });
  const t = simplestBetween(div(int(1), bf), af.n === 0n ? null : div(int(1), af));
  return add({ n: fl, d: 1n }, div(int(1), t));
}

/**
 * The value a param stands for: the simplest rational (smallest denominator) among those that
 * round to x. A threshold written 0.6 is 3/5 and one computed as 1/3 is 1/3, where the doubles
 * themselves lie just below. Integers and doubles with no simpler neighbour stand for themselves.
 */
export function intended(x: number): Q {
  if (!Number.isFinite(x)) throw new RangeError(`rational: ${x} is not finite`);
  if (Number.isInteger(x)) return q(x);
  const neg = x < 0;
  const a = Math.abs(x);
  const lo = div(add(q(a), q(neighbour(a, false))), int(2));
  const hi = div(add(q(a), q(neighbour(a, true))), int(2));
  const s = simplestBetween(lo, hi);
  return neg ? { n: -s.n, d: s.d } : s;
}
