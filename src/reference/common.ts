/** Small helpers shared by the reference families. */
import { invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { contiguous, isContiguous } from '../tensor.js';

/** The flat row-major data of an array (copied only when it is a view). */
export const flat = (a: Arr): Float64Array => (isContiguous(a) ? a.data : contiguous(a).data);

/** Resolves a possibly negative dim against a rank, or throws naming the param. */
export function resolveDim(dim: number, rank: number, path: string): number {
  const d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank) throw invalidParams(path, `dim ${dim} is out of range for a tensor of rank ${rank} (valid: ${-rank}..${rank - 1})`);
  return d;
}

/** Sizes of the dims before, at and after `dim`: the array viewed as [outer, size, inner]. */
export function splitAt(shape: readonly number[], dim: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[dim], inner];
}
