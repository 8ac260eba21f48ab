/**
 * Param schemas shared by many ops, and their normalisers. Schemas validate the JSON form (ajv);
 * normalisers turn the accepted forms into one canonical form and check what a schema cannot
 * (e.g. "same" only with stride 1), throwing errors that name the param's path.
 */
import type { JSONSchema, Params } from './registry.js';
import { perDim } from './geometry.js';

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
  title: 'a non-negative integer, [ph, pw], [top, bottom, left, right], "valid", "same", "SAME_UPPER" or "SAME_LOWER"',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 4, maxItems: 4 },
    { enum: ['valid', 'same', 'SAME_UPPER', 'SAME_LOWER'] },
  ],
};

export const padding1dSchema: JSONSchema = {
  title: 'a non-negative integer, [begin, end], "valid", "same", "SAME_UPPER" or "SAME_LOWER"',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 2 },
    { enum: ['valid', 'same', 'SAME_UPPER', 'SAME_LOWER'] },
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

/** Window pools: the explicit forms, or ONNX's automatic SAME_UPPER / SAME_LOWER (geometry.ts). */
export const windowPadding2dSchema: JSONSchema = {
  title: 'a non-negative integer, [ph, pw], [top, bottom, left, right], "SAME_UPPER" or "SAME_LOWER"',
  oneOf: [...(poolPadding2dSchema.oneOf as JSONSchema[]), { enum: ['SAME_UPPER', 'SAME_LOWER'] }],
};
export const windowPadding1dSchema: JSONSchema = {
  title: 'a non-negative integer, [begin, end], "SAME_UPPER" or "SAME_LOWER"',
  oneOf: [...(poolPadding1dSchema.oneOf as JSONSchema[]), { enum: ['SAME_UPPER', 'SAME_LOWER'] }],
};

export const reductionSchema: JSONSchema = { enum: ['none', 'mean', 'sum'] };

// the padding forms' resolution and the output sizes live in geometry.ts (re-exported for the callers of old)
export { convOutSize, perDim, resolvePadding, type Pads } from './geometry.js';

/**
 * Typed readers for an op's `options` resolver (registry.ts defineOp), the one place that reads
 * params untyped: the params were validated against the op's schema, so a mismatch here is the
 * oracle's own bug, reported as such (not a cast that would let it through).
 */
function mismatch(name: string, want: string, v: unknown): Error {
  return new Error(`internal: param ${name} is ${JSON.stringify(v)}, expected ${want} (its schema and its options resolver disagree)`);
}
export function num(p: Params, name: string): number {
  const v = p[name];
  if (typeof v !== 'number') throw mismatch(name, 'a number', v);
  return v;
}
export function optNum(p: Params, name: string): number | undefined {
  return p[name] === undefined ? undefined : num(p, name);
}
export function bool(p: Params, name: string): boolean {
  const v = p[name];
  if (typeof v !== 'boolean') throw mismatch(name, 'true or false', v);
  return v;
}
export function oneOf<T extends string>(p: Params, name: string, values: readonly T[]): T {
  const v = p[name];
  const found = values.find((x) => x === v);
  if (found === undefined) throw mismatch(name, `one of ${values.join(', ')}`, v);
  return found;
}
const isNumber = (x: unknown): x is number => typeof x === 'number';
/** An integer or a list of them, as a list. */
export function ints(p: Params, name: string): number[] {
  const v: unknown = p[name];
  if (isNumber(v)) return [v];
  if (!Array.isArray(v) || !v.every(isNumber)) throw mismatch(name, 'an integer or a list of them', v);
  return v.slice();
}

/** A padding param as given (an int, a per-side list, or one of the string forms); resolvePadding turns it into pads. */
export type PaddingForm = number | number[] | 'valid' | 'same' | 'SAME_UPPER' | 'SAME_LOWER';
const PADDING_WORDS = ['valid', 'same', 'SAME_UPPER', 'SAME_LOWER'] as const;
export function paddingForm(p: Params, name: string): PaddingForm {
  const v: unknown = p[name];
  if (isNumber(v)) return v;
  if (Array.isArray(v) && v.every(isNumber)) return v.slice();
  const word = PADDING_WORDS.find((w) => w === v);
  if (word === undefined) throw mismatch(name, 'a padding form', v);
  return word;
}

/** A number or a list of them, as given; undefined when absent (optional params). */
export function optNumOrList(p: Params, name: string): number | number[] | undefined {
  const v: unknown = p[name];
  if (v === undefined || isNumber(v)) return v;
  if (!Array.isArray(v) || !v.every(isNumber)) throw mismatch(name, 'a number or a list of them', v);
  return v.slice();
}

/** An int-or-list param per spatial dim (perDim of a checked ints). */
export const dims = (p: Params, name: string, rank: number): number[] => perDim(ints(p, name), rank);
