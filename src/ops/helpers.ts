/** Helpers for declaring ops: input specs and random tensors (error bounds are in judge/bounds.ts). */
import type { Arr } from '../tensor.js';
import { fromData, numel } from '../tensor.js';
import type { InputSpec } from '../registry.js';
import type { Admissible } from '../registry.js';
import { ambiguityReason } from '../judge/admissible.js';
import { CAP, type Boundaries } from '../reference/boundaries.js';
import type { Rng } from '../rng.js';

export const input = (name: string, doc: string, ranks?: number[], extra: Partial<InputSpec> = {}): InputSpec => ({
  name,
  doc,
  kind: 'float',
  ...(ranks ? { ranks } : {}),
  ...extra,
});

export const optional = (name: string, doc: string, ranks?: number[]): InputSpec => input(name, doc, ranks, { optional: true });

/** A random tensor of small dyadic values (exact in float32, easy to read). */
export function randTensor(rng: Rng, shape: number[], range = 4): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.dyadic(range);
  return fromData(d, shape);
}

/** A random tensor of float32 values with full mantissas (for exactness tests). */
export function randFloat32Tensor(rng: Rng, shape: number[], range = 1): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.float32(range);
  return fromData(d, shape);
}

export function randIndexTensor(rng: Rng, shape: number[], lo: number, hi: number): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.int(lo, hi);
  return fromData(d, shape);
}


/** An op's admissible blocks from a boundaries analysis (src/reference/boundaries.ts), with its reason; none when nothing can flip. */
export function boundaryAlternatives(b: Boundaries): Admissible | undefined {
  if (!b.blocks.length) return undefined;
  return { outputs: [], blocks: b.blocks, why: ambiguityReason(b.reasons, b.capped ? `variants bounded at ${CAP} per block; the other ambiguous decisions take their exact outcome` : undefined) };
}
