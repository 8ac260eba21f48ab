/**
 * Probes: small cases aimed at corners where libraries are known to slip, run by every
 * conformance target next to the fixtures and random cases (written in the catalogue's terms;
 * nothing here knows any particular library).
 */
import type { Inputs, Params } from '../registry.js';
import type { Rng } from '../rng.js';
import { fromData } from '../tensor.js';

export const PROBES: { id: string; op: string; inputs: Record<string, { shape: number[]; data: number[] }>; params: Record<string, unknown> }[] = [
  {
    id: 'probe/conv2d-non-square-kernel-int-padding',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 5, 5], data: Array.from({ length: 25 }, (_, i) => i) }, weight: { shape: [1, 1, 1, 3], data: [1, 2, 3] } },
    params: { padding: 1 },
  },
  {
    id: 'probe/conv2d-non-square-stride-int-padding',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 5, 5], data: Array.from({ length: 25 }, (_, i) => i) }, weight: { shape: [1, 1, 3, 3], data: [1, 0, -1, 2, 0, -2, 1, 0, -1] } },
    params: { padding: 1, stride: [1, 2] },
  },
  {
    id: 'probe/maxPool2d-all-negative-with-padding',
    op: 'maxPool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [-5, -6, -7, -8] } },
    params: { kernelSize: 2, stride: 1, padding: 1 },
  },
  {
    id: 'probe/softmax-large',
    op: 'softmax',
    inputs: { x: { shape: [2, 3], data: [1000, 1001, 1002, -1000, 0, 1000] } },
    params: {},
  },
];

PROBES.push({
  id: 'probe/maxPool2d-very-negative',
  op: 'maxPool2d',
  inputs: { x: { shape: [1, 1, 2, 2], data: [-200000, -300000, -400000, -500000] } },
  params: { kernelSize: 2 },
});

/**
 * Seeded probe families: random cases drawn in areas where float32 libraries tend to slip (NaN
 * inside a pooling window, sigmoid's tails, non-square windows or strides with a single-number
 * padding, resampling modes). Each family draws its cases from the run's seed; nothing here knows
 * any particular library, and which cases fail is found by running them.
 */
export interface ProbeFamily {
  id: string;
  op: string;
  /** The corner the family aims at. */
  why: string;
  generate(rng: Rng): { inputs: Inputs; params: Params };
}

const tensor = (rng: Rng, shape: number[], value: (rng: Rng) => number) => fromData(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => value(rng)), shape);

/** Two sizes that differ, each in [lo, hi]. */
const unequalPair = (rng: Rng, lo: number, hi: number): [number, number] => {
  const a = rng.int(lo, hi);
  let b = rng.int(lo, hi - 1);
  if (b >= a) b++;
  return [a, b];
};

export const PROBE_FAMILIES: ProbeFamily[] = [
  {
    id: 'maxPool2d-nan-in-window',
    op: 'maxPool2d',
    why: 'NaN inside a pooling window propagates, wherever it sits in the window',
    generate(rng) {
      const k = rng.int(2, 3);
      const shape = [1, rng.int(1, 2), rng.int(k, 6), rng.int(k, 6)];
      const x = tensor(rng, shape, (r) => (r.next() < 0.2 ? NaN : r.dyadic(4)));
      x.data[rng.int(0, x.data.length - 1)] = NaN; // at least one
      return { inputs: { x }, params: { kernelSize: k, stride: rng.int(1, k), padding: rng.int(0, Math.floor(k / 2)) } };
    },
  },
  {
    id: 'sigmoid-tails',
    op: 'sigmoid',
    why: 'sigmoid for |x| ≥ 8, where 1 − σ and σ(−x) are small and relative accuracy is easy to lose',
    generate(rng) {
      return { inputs: { x: tensor(rng, [rng.int(1, 2), rng.int(2, 6)], (r) => Math.fround((r.next() < 0.5 ? -1 : 1) * (8 + 40 * r.next()))) }, params: {} };
    },
  },
  {
    id: 'conv2d-non-square-int-padding',
    op: 'conv2d',
    why: 'a non-square kernel or stride with one number for the padding',
    generate(rng) {
      const square = rng.next() < 0.5;
      const [kh, kw] = square ? [3, 3] : unequalPair(rng, 1, 4);
      const stride = square ? unequalPair(rng, 1, 3) : rng.int(1, 2);
      const C = rng.int(1, 2);
      const O = rng.int(1, 2);
      const x = tensor(rng, [1, C, rng.int(kh, 7), rng.int(kw, 7)], (r) => r.dyadic(4));
      const weight = tensor(rng, [O, C, kh, kw], (r) => r.dyadic(2));
      return { inputs: { x, weight }, params: { padding: rng.int(1, 2), stride } };
    },
  },
  {
    id: 'convTranspose2d-non-square-int-padding',
    op: 'convTranspose2d',
    why: 'a transposed convolution with a non-square kernel or stride and one number for the padding',
    generate(rng) {
      const square = rng.next() < 0.5;
      const [kh, kw] = square ? [3, 3] : unequalPair(rng, 2, 4);
      const stride = square ? unequalPair(rng, 1, 3) : rng.int(1, 2);
      const C = rng.int(1, 2);
      const x = tensor(rng, [1, C, rng.int(2, 4), rng.int(2, 4)], (r) => r.dyadic(4));
      const weight = tensor(rng, [C, rng.int(1, 2), kh, kw], (r) => r.dyadic(2));
      return { inputs: { x, weight }, params: { padding: rng.int(1, Math.min(kh, kw) - 1), stride } };
    },
  },
  {
    id: 'upsample2d-modes',
    op: 'upsample2d',
    why: 'nearest and bilinear upsampling, with and without aligned corners, by a factor or to a size',
    generate(rng) {
      const [H, W] = [rng.int(2, 4), rng.int(2, 4)];
      const x = tensor(rng, [1, rng.int(1, 2), H, W], (r) => r.dyadic(4));
      const mode = rng.pick(['nearest', 'bilinear'] as const);
      const params: Params = { mode };
      if (mode === 'bilinear') params.alignCorners = rng.next() < 0.5;
      if (rng.next() < 0.5) params.scaleFactor = rng.int(2, 3);
      else params.size = [rng.int(H + 1, 2 * H + 1), rng.int(W + 1, 2 * W + 1)];
      return { inputs: { x }, params };
    },
  },
];
