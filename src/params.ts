/**
 * Param schemas shared by many ops, and their normalisers. Schemas validate the JSON form (ajv);
 * normalisers turn the accepted forms into one canonical form and check what a schema cannot
 * (e.g. "same" only with stride 1), throwing errors that name the param's path.
 */
import { invalidParams } from './errors.js';
import type { JSONSchema } from './registry.js';

export const intSchema = (minimum: number, title?: string): JSONSchema => ({ type: 'integer', minimum, ...(title ? { title } : {}) });

/** An int or [h, w]. */
export const intOrPair = (minimum: number): JSONSchema => ({
  title: `an integer ≥ ${minimum} or a pair [h, w] of them`,
  oneOf: [
    { type: 'integer', minimum },
    { type: 'array', items: { type: 'integer', minimum }, minItems: 2, maxItems: 2 },
  ],
});

/** An int or [l] or... for 1-D ops: an int (or a one-element array). */
export const intOrSingle = (minimum: number): JSONSchema => ({
  title: `an integer ≥ ${minimum}`,
  oneOf: [
    { type: 'integer', minimum },
    { type: 'array', items: { type: 'integer', minimum }, minItems: 1, maxItems: 1 },
  ],
});

export const padding2dSchema: JSONSchema = {
  title: 'a non-negative integer, [ph, pw], [top, bottom, left, right], "valid" or "same"',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 4, maxItems: 4 },
    { enum: ['valid', 'same'] },
  ],
};

export const padding1dSchema: JSONSchema = {
  title: 'a non-negative integer, [begin, end], "valid" or "same"',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 2 },
    { enum: ['valid', 'same'] },
  ],
};

/** Padding without the string forms (pooling). */
export const poolPadding2dSchema: JSONSchema = {
  title: 'a non-negative integer, [ph, pw] or [top, bottom, left, right]',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 4, maxItems: 4 },
  ],
};
export const poolPadding1dSchema: JSONSchema = {
  title: 'a non-negative integer or [begin, end]',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 2 },
  ],
};

export const reductionSchema: JSONSchema = { enum: ['none', 'mean', 'sum'] };

/** Expands an int or tuple to one value per spatial dim. */
export function perDim(value: unknown, rank: number): number[] {
  if (typeof value === 'number') return new Array<number>(rank).fill(value);
  const a = value as number[];
  if (a.length === 1) return new Array<number>(rank).fill(a[0]);
  return a.slice();
}

/** Resolved padding: begin and end per spatial dim. */
export interface Pads {
  begin: number[];
  end: number[];
}

/**
 * Canonical padding. `[ph, pw]` is symmetric; `[t, b, l, r]` is begin/end per axis (P⁻, P⁺ of the
 * notes); 1-D `[begin, end]`. "same" (stride 1): total d·(k−1), begin ⌊total/2⌋, the odd extra at
 * the end, as PyTorch and TF.
 */
export function resolvePadding(
  value: unknown,
  rank: number,
  kernel: number[],
  dilation: number[],
  stride: number[] | null,
  path = '/params/padding',
): Pads {
  if (value === 'valid') return { begin: new Array<number>(rank).fill(0), end: new Array<number>(rank).fill(0) };
  if (value === 'same') {
    if (stride && stride.some((s) => s !== 1)) {
      throw invalidParams(path, `padding "same" needs stride 1 (got stride [${stride.join(', ')}]), as in PyTorch`);
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
  if (typeof value === 'number') return { begin: new Array<number>(rank).fill(value), end: new Array<number>(rank).fill(value) };
  const a = value as number[];
  if (rank === 1) {
    return a.length === 1 ? { begin: [a[0]], end: [a[0]] } : { begin: [a[0]], end: [a[1]] };
  }
  if (a.length === 2) return { begin: [a[0], a[1]], end: [a[0], a[1]] };
  if (a.length === 4) return { begin: [a[0], a[2]], end: [a[1], a[3]] };
  throw invalidParams(path, 'padding must be an integer, [ph, pw] or [top, bottom, left, right]');
}

/** out = ⌊(in + p⁻ + p⁺ − (d·(k−1) + 1)) / s⌋ + 1 (floor toward −∞). */
export function convOutSize(inSize: number, k: number, s: number, d: number, pb: number, pe: number): number {
  return Math.floor((inSize + pb + pe - (d * (k - 1) + 1)) / s) + 1;
}
