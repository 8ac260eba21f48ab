/** Small helpers shared by the reference families. */
import { ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { contiguous, isContiguous, shapeString } from '../tensor.js';

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

/** One exact accumulator per element, allocated on first use. */
export class ScatterSum {
  private acc: (ExactSum | undefined)[];
  constructor(readonly size: number) {
    this.acc = new Array(size);
  }
  addProduct(i: number, a: number, b: number): void {
    (this.acc[i] ??= new ExactSum()).addProduct(a, b);
  }
  add(i: number, a: number): void {
    (this.acc[i] ??= new ExactSum()).add(a);
  }
  values(): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.acc[i]?.value() ?? 0;
    return out;
  }
}

export function checkDy(dy: Arr, shape: readonly number[]): Float64Array {
  if (dy.shape.length !== shape.length || dy.shape.some((d, i) => d !== shape[i])) {
    throw invalidInputs('/inputs/dy/shape', `dy must have the shape of the forward output ${shapeString(shape)}, got ${shapeString(dy.shape)}`);
  }
  return flat(dy);
}
