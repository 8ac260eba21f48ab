/**
 * The `simd` backend of the registry: hand-written WebAssembly SIMD kernels (kernels/simd/),
 * float32, for the ops that are matrix multiplies at heart. Loaded when first called.
 */
import { getOp, type Inputs, type Outputs, type Params } from '../registry.js';
import { convGeometry } from './conv.js';
import { transposedGeometry } from './transposed.js';

const S = () => import('../../kernels/simd/ops.js');

const SIMD: Record<string, (i: Inputs, p: Params) => Promise<Outputs>> = {
  conv2d: async (i, p) => ({ y: await (await S()).conv2d(i.x, i.weight, i.bias, convGeometry(p, i.weight.shape.slice(2), 2)) }),
  convTranspose2d: async (i, p) => ({ y: await (await S()).convTranspose2d(i.x, i.weight, i.bias, transposedGeometry(p, 2, i.weight.shape.slice(2))) }),
  linear: async (i) => ({ y: await (await S()).linear(i.x, i.weight, i.bias) }),
};

for (const [name, fn] of Object.entries(SIMD)) getOp(name).simd = fn;

export const SIMD_OPS = Object.keys(SIMD);
