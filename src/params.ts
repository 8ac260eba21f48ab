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
