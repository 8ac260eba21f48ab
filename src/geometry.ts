/**
 * Geometry of the windowed ops, in one place: the padding forms and their resolution to begin/end
 * pads, the output sizes of convolution, pooling and transposed convolution, and the lift of a
 * 1-D op onto its 2-D kernel ([N, C, L] viewed as [N, C, 1, L], the geometry given a neutral
 * height axis). The ops (ops/conv.ts, pooling.ts, transposed.ts), the fast backends, the mistakes
 * and the conformance adapters all resolve padding here.
 */
import { invalidParams } from './errors.js';
import { contiguous, fromData, isContiguous, type Arr } from './tensor.js';

/** Resolved padding: begin and end per spatial dim (P⁻, P⁺ of the notes). */
export interface Pads {
  begin: number[];
  end: number[];
}

/**
 * The ONNX/TensorFlow automatic padding forms (any stride): the output is ⌈in / s⌉ long, with
 * total = max((⌈in/s⌉ − 1)·s + d·(k − 1) + 1 − in, 0), split ⌊total/2⌋ / ⌈total/2⌉ — the extra one
 * at the end for SAME_UPPER (TensorFlow's "SAME"), at the start for SAME_LOWER. An extension of
 * ops.md (which has "valid" and stride-1 "same" only).
 */
export const AUTO_PADS = ['SAME_UPPER', 'SAME_LOWER'] as const;
export type AutoPad = (typeof AUTO_PADS)[number];
export const isAutoPad = (v: unknown): v is AutoPad => (AUTO_PADS as readonly unknown[]).includes(v);

/** Expands an int or tuple to one value per spatial dim. */
export function perDim(value: unknown, rank: number): number[] {
  if (typeof value === 'number') return new Array<number>(rank).fill(value);
  const a = value as number[];
  if (a.length === 1) return new Array<number>(rank).fill(a[0]);
  return a.slice();
}

/** SAME_UPPER / SAME_LOWER along one axis: [begin, end]. */
export function autoPad(form: AutoPad, inSize: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max((Math.ceil(inSize / s) - 1) * s + d * (k - 1) + 1 - inSize, 0);
  const small = Math.floor(total / 2);
  return form === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
}

/**
 * Canonical padding. `[ph, pw]` is symmetric; `[t, b, l, r]` is begin/end per axis (P⁻, P⁺ of the
 * notes); 1-D `[begin, end]`. "same" (stride 1): total d·(k−1), begin ⌊total/2⌋, the odd extra at
 * the end, as PyTorch and TF. SAME_UPPER / SAME_LOWER (any stride) depend on the input's spatial
 * size `input` as well (autoPad).
 */
export function resolvePadding(
  value: unknown,
  rank: number,
  kernel: number[],
  dilation: number[],
  stride: number[] | null,
  path = '/params/padding',
  input?: readonly number[],
): Pads {
  if (value === 'valid') return { begin: new Array<number>(rank).fill(0), end: new Array<number>(rank).fill(0) };
  if (value === 'same') {
    if (stride && stride.some((s) => s !== 1)) {
      throw invalidParams(path, `padding "same" needs stride 1 (got stride [${stride.join(', ')}]), as in PyTorch (SAME_UPPER / SAME_LOWER take any stride)`);
    }
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < rank; i++) {
      const total = dilation[i] * (kernel[i] - 1);
      begin.push(Math.floor(total / 2));
      end.push(total - Math.floor(total / 2));
    }
    return { begin, end };
  }
  if (isAutoPad(value)) {
    if (!input) throw new Error(`resolvePadding: ${value} needs the input's spatial size`);
    const s = stride ?? new Array<number>(rank).fill(1);
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < rank; i++) {
      const [b, e] = autoPad(value, input[i], kernel[i], s[i], dilation[i]);
      begin.push(b);
      end.push(e);
    }
    return { begin, end };
  }
  if (typeof value === 'number') return { begin: new Array<number>(rank).fill(value), end: new Array<number>(rank).fill(value) };
  const a = value as number[];
  if (rank === 1) {
    return a.length === 1 ? { begin: [a[0]], end: [a[0]] } : { begin: [a[0]], end: [a[1]] };
  }
  if (a.length === 2) return { begin: [a[0], a[1]], end: [a[0], a[1]] };
  if (a.length === 4) return { begin: [a[0], a[2]], end: [a[1], a[3]] };
  throw invalidParams(path, 'padding must be an integer, [ph, pw] or [top, bottom, left, right]');
}

/**
 * The form a padding value is written in, for reports: "valid", "same", "SAME_UPPER",
 * "SAME_LOWER", "int", "pair" (the same pad at both ends of each axis) or "asymmetric".
 */
export function paddingForm(value: unknown, rank: number): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return 'int';
  const a = value as number[];
  const pads = rank === 1 ? { begin: [a[0]], end: [a[a.length - 1]] } : a.length === 4 ? { begin: [a[0], a[2]], end: [a[1], a[3]] } : { begin: a, end: a };
  return pads.begin.every((b, i) => b === pads.end[i]) ? 'pair' : 'asymmetric';
}

/** Convolution: out = ⌊(in + p⁻ + p⁺ − (d·(k−1) + 1)) / s⌋ + 1 (floor toward −∞). */
export function convOutSize(inSize: number, k: number, s: number, d: number, pb: number, pe: number): number {
  return Math.floor((inSize + pb + pe - (d * (k - 1) + 1)) / s) + 1;
}

/**
 * Pooling output size along one axis:
 *
 *   out = ⌊(in + p⁻ + p⁺ − d(k−1) − 1 + (ceil ? s−1 : 0)) / s⌋ + 1,
 *   and in ceil mode, if (out−1)·s ≥ in + p⁻, out − 1 (the last window must start inside the input
 *   or the left padding).
 */
export function poolOutSize(inSize: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const eff = d * (k - 1) + 1;
  let out = Math.floor((inSize + pb + pe - eff + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= inSize + pb) out--;
  return out;
}

/** Transposed convolution: out = (in − 1)·s − P⁻ − P⁺ + d·(k − 1) + outputPadding + 1 */
export function transposedOutSize(inSize: number, k: number, s: number, d: number, pb: number, pe: number, op: number): number {
  return (inSize - 1) * s - pb - pe + d * (k - 1) + op + 1;
}

/** A 1-D tensor [N, C, L] (or kernel [O, C, k]) viewed as 2-D: [N, C, 1, L]. */
export function as2d(a: Arr): Arr {
  return fromData(isContiguous(a) ? a.data : contiguous(a).data, [a.shape[0], a.shape[1], 1, a.shape[2]]);
}

/** The 2-D result [N, C, 1, L] of a lifted 1-D op, back as [N, C, L]. */
export function as1d(a: Arr): Arr {
  return fromData(isContiguous(a) ? a.data : contiguous(a).data, [a.shape[0], a.shape[1], a.shape[3]]);
}

interface Lifted {
  pads: Pads;
  kernel?: number[];
  stride?: number[];
  dilation?: number[];
  outputPadding?: number[];
}

/**
 * A 1-D geometry as the 2-D one of its lifted op: a height axis of kernel 1, stride 1, dilation 1,
 * no padding and no output padding, the 1-D values on the width axis.
 */
export function lift1d<G extends Lifted>(g: G): G {
  const w = (v: number[] | undefined, neutral: number) => (v ? [neutral, v[0]] : undefined);
  const out: G = { ...g, pads: { begin: [0, g.pads.begin[0]], end: [0, g.pads.end[0]] } };
  if (g.kernel) out.kernel = w(g.kernel, 1);
  if (g.stride) out.stride = w(g.stride, 1);
  if (g.dilation) out.dilation = w(g.dilation, 1);
  if (g.outputPadding) out.outputPadding = w(g.outputPadding, 0);
  return out;
}
