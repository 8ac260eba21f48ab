// A TypeScript submission (graded without a build step) with a classic bug: it rotates the kernel.
import * as correct from './correct.js';

type Nd = { shape: number[]; data: Float64Array; get(...i: number[]): number };

export function conv2d(inputs: { x: Nd; weight: Nd; bias?: Nd }, params: Record<string, unknown>) {
  return correct.conv2d(inputs, { ...params, flip: !params.flip });
}
export const { maxPool2d, relu, linear, softmax, batchNorm } = correct;
