/**
 * Shape and size helpers for the worked exercises (ops.md "Shape and size helpers"): output sizes,
 * parameter counts, activation memory, receptive fields, multiply-accumulates. Plain functions on
 * top of the same formulas the reference ops use.
 */
import { convOutSize } from '../params.js';
import { convShape } from '../reference/conv.js';
import { poolOutSize, poolShape } from '../reference/pooling.js';
import { transposedOutSize, transposedShape } from '../reference/transposed.js';
import type { Arr } from '../tensor.js';

/** Conv output size along one axis: ⌊(in + P⁻ + P⁺ − d(k−1) − 1)/s⌋ + 1. */
export function convOutput(inSize: number, k: number, stride = 1, padBegin = 0, padEnd = padBegin, dilation = 1): number {
  return convOutSize(inSize, k, stride, dilation, padBegin, padEnd);
}

/** The exact (possibly fractional) value (in + P⁻ + P⁺ − k_eff)/s + 1, before rounding down. */
export function convOutputExact(inSize: number, k: number, stride = 1, padBegin = 0, padEnd = padBegin, dilation = 1): number {
  return (inSize + padBegin + padEnd - (dilation * (k - 1) + 1)) / stride + 1;
}

/** Pool output size along one axis (PyTorch rule, with ceil mode). */
export function poolOutput(inSize: number, k: number, stride = k, pad = 0, ceilMode = false, dilation = 1): number {
  return poolOutSize(inSize, k, stride, dilation, pad, pad, ceilMode);
}

/** Transposed-conv output size along one axis. */
export function transposedOutput(inSize: number, k: number, stride = 1, pad = 0, outputPadding = 0, dilation = 1): number {
  return transposedOutSize(inSize, k, stride, dilation, pad, pad, outputPadding);
}

/** Conv layer parameters: (kh·kw·C_in/groups + bias)·K. */
export function convParams(k: number | [number, number], cin: number, filters: number, bias = true, groups = 1): number {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  return (kh * kw * (cin / groups) + (bias ? 1 : 0)) * filters;
}

/** Dense layer parameters: (in + bias)·out. */
export function linearParams(inF: number, outF: number, bias = true): number {
  return (inF + (bias ? 1 : 0)) * outF;
}

/** Batch-norm parameters: γ and β per channel (2C); the running statistics (2C more) are buffers. */
export function batchNormParams(channels: number): number {
  return 2 * channels;
}

/** Activation count and memory of a tensor. */
export function activationMemory(shape: number[], bytesPerValue = 4): { values: number; bytes: number } {
  const values = shape.reduce((a, b) => a * b, 1);
  return { values, bytes: values * bytesPerValue };
}

/**
 * Receptive field of a stack, by the recurrence r ← r + (k − 1)·j, j ← j·s (j the jump: distance
 * in input pixels between neighbouring outputs), from r = 1, j = 1. Dilation enlarges k to d(k−1)+1.
 */
export function receptiveField(layers: { k: number; s?: number; d?: number }[]): { size: number; jump: number } {
  let r = 1;
  let j = 1;
  for (const l of layers) {
    const k = (l.d ?? 1) * (l.k - 1) + 1;
    r += (k - 1) * j;
    j *= l.s ?? 1;
  }
  return { size: r, jump: j };
}

/** Multiply-accumulates of a conv layer: outputs × (kh·kw·C_in/groups). */
export function convMacs(outH: number, outW: number, k: number | [number, number], cin: number, filters: number, groups = 1): number {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  return outH * outW * filters * kh * kw * (cin / groups);
}

/**
 * A tensor that is only a shape, for the reference's shape checks (convShape, transposedShape),
 * which read nothing else: the exercises ask them whether a layer is possible without allocating
 * a 224×224×512 input to find out.
 */
const shapeOnly = (shape: number[]) => ({ shape }) as unknown as Arr;

export interface ConvGeometryOf {
  k: number | [number, number];
  stride?: number;
  /** P⁻ (top and left) */
  pad?: number;
  /** P⁺ (bottom and right); default P⁻ */
  padEnd?: number;
  dilation?: number;
  groups?: number;
  cin?: number;
  filters?: number;
}

/**
 * The output [H, W] of a 2-D conv, through conv2d's own shape check: it throws conv2d's error
 * (kernel larger than the padded input, channels not divisible by the groups) where PyTorch would.
 */
export function convOutputChecked(inHW: [number, number], g: ConvGeometryOf): [number, number] {
  const [kh, kw] = typeof g.k === 'number' ? [g.k, g.k] : g.k;
  const groups = g.groups ?? 1;
  const cin = g.cin ?? groups;
  const pb = g.pad ?? 0;
  const pe = g.padEnd ?? pb;
  const s = g.stride ?? 1;
  const d = g.dilation ?? 1;
  return convShape(shapeOnly([1, cin, inHW[0], inHW[1]]), shapeOnly([g.filters ?? groups, cin / groups, kh, kw]), undefined, {
    stride: [s, s],
    dilation: [d, d],
    pads: { begin: [pb, pb], end: [pe, pe] },
    groups,
    flip: false,
  });
}

/** The output [H, W] of a max or average pool, through the pooling ops' own shape check. */
export function poolOutputChecked(inHW: [number, number], k: number, stride = k, pad = 0, ceilMode = false): [number, number] {
  return poolShape(inHW[0], inHW[1], { kernel: [k, k], stride: [stride, stride], dilation: [1, 1], pads: { begin: [pad, pad], end: [pad, pad] }, ceilMode });
}

/** The output width of a square transposed conv, through convTranspose2d's own shape check. */
export function transposedOutputChecked(inSize: number, k: number, stride = 1, pad = 0, outputPadding = 0): number {
  return transposedShape(shapeOnly([1, 1, inSize, inSize]), shapeOnly([1, 1, k, k]), undefined, {
    stride: [stride, stride],
    dilation: [1, 1],
    pads: { begin: [pad, pad], end: [pad, pad] },
    outputPadding: [outputPadding, outputPadding],
    groups: 1,
  })[0];
}
