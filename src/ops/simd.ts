/**
 * The `simd` backend of the registry: hand-written WebAssembly SIMD kernels (kernels/simd/),
 * float32: the ops that are matrix multiplies at heart (SIMD micro-kernel), and pooling and softmax
 * (scalar loops over the float64 input). Loaded when first called.
 */
import { getOp, type Inputs, type Outputs, type Params } from '../registry.js';
import { convGeometry } from './conv.js';
import { transposedGeometry } from './transposed.js';
import { poolGeometry } from './pooling.js';

const S = () => import('../../kernels/simd/ops.js');
const R = () => import('../../kernels/simd/reduce.js');

const SIMD: Record<string, (i: Inputs, p: Params) => Promise<Outputs>> = {
  conv2d: async (i, p) => ({ y: await (await S()).conv2d(i.x, i.weight, i.bias, convGeometry(p, i.weight.shape.slice(2), 2)) }),
  convTranspose2d: async (i, p) => ({ y: await (await S()).convTranspose2d(i.x, i.weight, i.bias, transposedGeometry(p, 2, i.weight.shape.slice(2))) }),
  linear: async (i) => ({ y: await (await S()).linear(i.x, i.weight, i.bias) }),
  maxPool2d: async (i, p): Promise<Outputs> => {
    const r = await (await R()).maxPool2d(i.x, poolGeometry(p, 2), Boolean(p.returnIndices));
    return r.indices ? { y: r.y, indices: r.indices } : { y: r.y };
  },
  softmax: async (i, p) => ({ y: await (await R()).softmax(i.x, p.dim as number) }),
  avgPool2d: async (i, p) => ({ y: await (await R()).avgPool2d(i.x, poolGeometry(p, 2), { countIncludePad: p.countIncludePad as boolean, divisorOverride: p.divisorOverride as number | undefined }) }),
};

for (const [name, fn] of Object.entries(SIMD)) getOp(name).simd = fn;

export const SIMD_OPS = Object.keys(SIMD);
