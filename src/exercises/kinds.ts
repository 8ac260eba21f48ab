/**
 * Exercise kinds: each is a generator. Given its parameters it writes the question, computes the
 * answer with the library's own functions (never typed in), lists the likely wrong answers with
 * what each reveals, works the solution step by step, and draws new numbers of the same kind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getOp, resolveParams } from '../registry.js';
import { fromData, type Arr } from '../tensor.js';
import type { Rng } from '../rng.js';
import { convOutput, convOutputExact, convParams, poolOutput, receptiveField, transposedOutput } from './sizes.js';
import { parseModel, summarize } from './summary.js';
import { flat } from '../reference/common.js';
import { PACKAGE_ROOT } from '../grading/assignment.js';

export type Answer = number | string | Answer[];
export type P = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface WrongAnswer {
  value: Answer;
  /** What the student likely did. */
  label: string;
}

export interface Kind {
  name: string;
  question(p: P): string;
  answer(p: P): Answer;
  /** Integer answers must be exact; real ones to 4 significant digits. */
  exact: boolean;
  steps(p: P): string[];
  mistakes(p: P): WrongAnswer[];
  vary(rng: Rng, p: P): P;
}

const run = (op: string, inputs: Record<string, Arr>, params: P) => getOp(op).reference(inputs, resolveParams(getOp(op), params));
/** Nested arrays of a tensor (its last `dims` dimensions, leading ones of size 1 dropped). */
function nested(a: Arr, dims = a.shape.length): Answer {
  const shape = a.shape.slice(a.shape.length - dims);
  const d = Array.from(flat(a));
  const rec = (off: number, s: number[]): Answer => (s.length === 0 ? d[off] : Array.from({ length: s[0] }, (_, i) => rec(off + i * s.slice(1).reduce((x, y) => x * y, 1), s.slice(1))));
  return rec(0, shape);
}
const grid = (rows: number[][]) => fromData(rows.flat(), [1, 1, rows.length, rows[0].length]);
const pick = <T>(rng: Rng, xs: T[]) => rng.pick(xs);
const fmt = (a: Answer): string => (Array.isArray(a) ? `[${a.map(fmt).join(', ')}]` : typeof a === 'number' ? String(Math.round(a * 1e4) / 1e4) : a);
const dims = (xs: number[]) => xs.join('×');
const randGrid = (rng: Rng, h: number, w: number, lo = 0, hi = 9) => Array.from({ length: h }, () => Array.from({ length: w }, () => rng.int(lo, hi)));

const convOutputKind: Kind = {
  name: 'convOutput',
  exact: true,
  question(p) {
    const inS = Array.isArray(p.in) ? dims(p.in) : `${p.in}×${p.in}`;
    const depth = p.channels ? `×${p.channels}` : '';
    const pad = p.padEnd !== undefined ? `padding ${p.pad} before and ${p.padEnd} after` : `zero padding ${p.pad}`;
    const what = p.filters ? `${p.filters} filters of ${p.k}×${p.k}` : `a ${p.k}×${p.k} filter`;
    const fit = p.requireFit ? ' If the filter does not fit the input evenly, answer "none".' : '';
    if (p.repeat > 1) return `A ${inS}${depth} input is convolved ${p.repeat} times in a row with ${what}, stride ${p.stride}, ${pad}. What is the width after the last convolution?`;
    const ask = p.filters ? 'What is the output volume (H×W×K)?' : Array.isArray(p.in) ? 'What is the output size (H×W)?' : 'What is the output width?';
    return `A ${inS}${depth} input is convolved with ${what}, stride ${p.stride}, ${pad}${p.dilation > 1 ? `, dilation ${p.dilation}` : ''}. ${ask}${fit}`;
  },
  answer(p) {
    if (p.repeat > 1) {
      let n = p.in;
      for (let r = 0; r < p.repeat; r++) n = convOutput(n, p.k, p.stride, p.pad);
      return n;
    }
    const ins: number[] = Array.isArray(p.in) ? p.in : [p.in, p.in];
    const exact = ins.map((n) => convOutputExact(n, p.k, p.stride, p.pad, p.padEnd ?? p.pad, p.dilation ?? 1));
    if (p.requireFit && exact.some((v) => !Number.isInteger(v))) return 'none';
    const out = ins.map((n) => convOutput(n, p.k, p.stride, p.pad, p.padEnd ?? p.pad, p.dilation ?? 1));
    if (p.filters) return [...out, p.filters];
    return Array.isArray(p.in) ? out : out[0];
  },
  steps(p) {
    if (p.repeat > 1) {
      const chain = [p.in];
      for (let r = 0; r < p.repeat; r++) chain.push(convOutput(chain[r], p.k, p.stride, p.pad));
      return [`Each convolution: out = (in + 2P − F)/S + 1; with F = ${p.k}, S = ${p.stride}, P = ${p.pad} it shrinks the map by ${p.k - 1 - 2 * p.pad} when S = 1.`, `${chain.join(' → ')}.`, `Answer: ${chain[chain.length - 1]}.`];
    }
    const ins: number[] = Array.isArray(p.in) ? p.in : [p.in];
    const kEff = (p.dilation ?? 1) * (p.k - 1) + 1;
    const pe = p.padEnd ?? p.pad;
    const lines = [`out = ⌊(in + P⁻ + P⁺ − k_eff) / s⌋ + 1, with k_eff = d·(k − 1) + 1 = ${kEff}.`];
    for (const n of ins) {
      const ex = convOutputExact(n, p.k, p.stride, p.pad, pe, p.dilation ?? 1);
      lines.push(`in = ${n}: (${n} + ${p.pad} + ${pe} − ${kEff}) / ${p.stride} + 1 = ${fmt(ex)}${Number.isInteger(ex) ? '' : p.requireFit ? ': not an integer, so the filter does not fit evenly' : `, rounded down: ${Math.floor(ex)}`}.`);
    }
    if (p.filters) lines.push(`Each of the ${p.filters} filters gives one output channel.`);
    lines.push(`Answer: ${fmt(this.answer(p))}.`);
    return lines;
  },
  mistakes(p) {
    const m: WrongAnswer[] = [];
    if (p.repeat > 1) return [{ value: convOutput(p.in, p.k, p.stride, p.pad), label: 'applied the convolution only once' }];
    const ins: number[] = Array.isArray(p.in) ? p.in : [p.in, p.in];
    const shape = (v: number[]) => (p.filters ? [...v, p.filters] : Array.isArray(p.in) ? v : v[0]);
    if (p.pad || p.padEnd) m.push({ value: shape(ins.map((n) => convOutput(n, p.k, p.stride, 0, 0, p.dilation ?? 1))), label: 'forgot the padding' });
    if (p.pad && p.padEnd === undefined) m.push({ value: shape(ins.map((n) => convOutput(n, p.k, p.stride, p.pad, 0, p.dilation ?? 1))), label: 'padded one side only (the padding goes on both sides)' });
    if ((p.dilation ?? 1) > 1) m.push({ value: shape(ins.map((n) => convOutput(n, p.k, p.stride, p.pad, p.padEnd ?? p.pad))), label: 'ignored the dilation (the kernel spans d·(k−1)+1 cells)' });
    const ex = ins.map((n) => convOutputExact(n, p.k, p.stride, p.pad, p.padEnd ?? p.pad, p.dilation ?? 1));
    if (ex.some((v) => !Number.isInteger(v))) {
      m.push({ value: shape(ex), label: 'did not round down (the formula takes the floor)' });
      if (p.requireFit) m.push({ value: shape(ex.map(Math.floor)), label: 'rounded down, but the question asks whether the filter fits evenly' });
    }
    if (p.stride > 1) m.push({ value: shape(ins.map((n) => convOutput(n, p.k, 1, p.pad, p.padEnd ?? p.pad, p.dilation ?? 1))), label: 'ignored the stride' });
    return m;
  },
  vary(rng, p) {
    const n = rng.int(5, 64);
    const k = pick(rng, [1, 3, 5, 7, 11]);
    const out: P = { ...p, in: Array.isArray(p.in) ? [n, rng.int(5, 64)] : n, k: Math.min(k, n), stride: rng.int(1, 4), pad: rng.int(0, 3) };
    if (p.padEnd !== undefined) out.padEnd = rng.int(0, 3);
    if (p.filters) out.filters = rng.int(2, 128);
    if (p.channels) out.channels = rng.int(1, 64);
    if (p.dilation) out.dilation = rng.int(1, 3);
    if (p.repeat) Object.assign(out, { repeat: rng.int(2, 4), stride: 1, pad: 0, in: rng.int(24, 64), k: pick(rng, [3, 5]) });
    if (p.requireFit && rng.next() < 0.7) {
      // mostly variants that fit evenly: choose the input from the output
      const o = rng.int(3, 20);
      out.in = (o - 1) * out.stride + out.k - 2 * out.pad;
      if (out.in < out.k) out.in = out.k;
    }
    return out;
  },
};

const transposedOutputKind: Kind = {
  name: 'transposedOutput',
  exact: true,
  question: (p) => `A transposed convolution takes a ${p.in}×${p.in} input with a ${p.k}×${p.k} kernel, stride ${p.stride}, padding ${p.pad}${p.outputPadding ? `, output padding ${p.outputPadding}` : ''}. What is the output width?`,
  answer: (p) => transposedOutput(p.in, p.k, p.stride, p.pad, p.outputPadding ?? 0),
  steps: (p) => [
    'out = (in − 1)·s − 2p + d·(k − 1) + outputPadding + 1: the inverse of the conv formula.',
    `(${p.in} − 1)·${p.stride} − 2·${p.pad} + (${p.k} − 1) + ${p.outputPadding ?? 0} + 1 = ${transposedOutput(p.in, p.k, p.stride, p.pad, p.outputPadding ?? 0)}.`,
  ],
  mistakes: (p) => [
    { value: p.in * p.stride, label: 'multiplied by the stride only (the kernel overhang and the padding change the size)' },
    { value: convOutput(p.in, p.k, p.stride, p.pad), label: 'used the (forward) convolution formula' },
    ...(p.outputPadding ? [{ value: transposedOutput(p.in, p.k, p.stride, p.pad, 0), label: 'forgot the output padding' }] : []),
  ],
  vary: (rng, p) => {
    const stride = rng.int(1, 3);
    return { ...p, in: rng.int(2, 32), k: pick(rng, [2, 3, 4, 5]), stride, pad: rng.int(0, 2), outputPadding: p.outputPadding !== undefined ? rng.int(0, stride - 1) : undefined };
  },
};

const samePaddingKind: Kind = {
  name: 'samePadding',
  exact: true,
  question: (p) => `With stride 1, how much zero padding on each side keeps the size of the input for a ${p.k}×${p.k} filter?`,
  answer: (p) => (p.k - 1) / 2,
  steps: (p) => [`out = in + 2P − F + 1 = in needs 2P = F − 1, so P = (F − 1)/2 = (${p.k} − 1)/2 = ${(p.k - 1) / 2}.`],
  mistakes: (p) => [{ value: p.k - 1, label: 'gave the total padding (both sides together)' }],
  vary: (rng) => ({ k: pick(rng, [1, 3, 5, 7, 9, 11]) }),
};

const poolKind: Kind = {
  name: 'poolOutput',
  exact: true,
  question(p) {
    if (p.quantity === 'parameters') return `How many learnable parameters does a ${p.k}×${p.k} max-pooling layer with stride ${p.stride} have?`;
    if (p.quantity === 'discarded') return `A ${p.k}×${p.k} max pooling with stride ${p.stride} on a ${p.in}×${p.in} map: what percentage of the activations does it discard?`;
    return `A ${p.in}×${p.in} map is max-pooled with a ${p.k}×${p.k} window, stride ${p.stride}. What is the output width?`;
  },
  answer(p) {
    if (p.quantity === 'parameters') return 0;
    const out = poolOutput(p.in, p.k, p.stride);
    if (p.quantity === 'discarded') return Math.round(10000 * (1 - (out * out) / (p.in * p.in))) / 100;
    return out;
  },
  steps(p) {
    if (p.quantity === 'parameters') return ['Pooling takes a fixed function (the max) of each window: nothing is learned, 0 parameters.'];
    const out = poolOutput(p.in, p.k, p.stride);
    const s = [`W₂ = ⌊(W₁ − F)/S⌋ + 1 = ⌊(${p.in} − ${p.k})/${p.stride}⌋ + 1 = ${out}.`];
    if (p.quantity === 'discarded') s.push(`${out}² of ${p.in}² values remain: 1 − ${out * out}/${p.in * p.in} = ${fmt(this.answer(p))} % discarded.`);
    return s;
  },
  mistakes: (p) => (p.quantity === 'size' ? [{ value: Math.floor(p.in / p.k), label: 'divided by the window, ignoring the stride (windows overlap when the stride is smaller)' }] : p.quantity === 'discarded' ? [{ value: 50, label: 'halving the size halves each side: a quarter of the values remain' }] : []),
  vary: (rng, p) => ({ ...p, in: 2 * rng.int(4, 60) + (p.k === 3 ? 1 : 0), stride: p.quantity === 'discarded' ? p.stride : rng.int(1, 3) }),
};

const convLayerKind: Kind = {
  name: 'convLayer',
  exact: true,
  question(p) {
    const q: Record<string, string> = {
      outputWidth: 'What is the output width?',
      weightsPerFilter: 'How many weights does each filter have, including its bias?',
      neurons: 'How many neurons (output values) does the layer have?',
      connections: 'How many connections (weights from inputs into neurons, biases included) does it have?',
      parameters: 'How many independent parameters does it have (shared weights counted once, biases included)?',
      weightsNoSharing: 'How many weights would it have without parameter sharing?',
    };
    return `A conv layer takes a ${p.in}×${p.in}×${p.cin} input and has ${p.filters} filters of ${p.k}×${p.k}, stride ${p.stride}, padding ${p.pad}. ${q[p.quantity]}`;
  },
  answer(p) {
    const out = convOutput(p.in, p.k, p.stride, p.pad);
    const perFilter = convParams(p.k, p.cin, 1, true);
    const neurons = out * out * p.filters;
    switch (p.quantity) {
      case 'outputWidth':
        return out;
      case 'weightsPerFilter':
        return perFilter;
      case 'neurons':
        return neurons;
      case 'parameters':
        return convParams(p.k, p.cin, p.filters, true);
      default:
        return neurons * perFilter; // connections = weights without sharing
    }
  },
  steps(p) {
    const out = convOutput(p.in, p.k, p.stride, p.pad);
    const per = convParams(p.k, p.cin, 1, true);
    return [
      `Output width: ⌊(${p.in} + 2·${p.pad} − ${p.k})/${p.stride}⌋ + 1 = ${out}.`,
      `Each filter: ${p.k}·${p.k}·${p.cin} weights + 1 bias = ${per}.`,
      `Neurons: ${out}·${out}·${p.filters} = ${out * out * p.filters}.`,
      `Connections (each neuron sees ${per} inputs incl. bias): ${out * out * p.filters}·${per} = ${out * out * p.filters * per}; without parameter sharing that is also the number of weights.`,
      `Parameters with sharing: ${per}·${p.filters} = ${per * p.filters}.`,
      `Answer: ${fmt(this.answer(p))}.`,
    ];
  },
  mistakes(p) {
    const out = convOutput(p.in, p.k, p.stride, p.pad);
    const m: WrongAnswer[] = [];
    if (p.quantity === 'weightsPerFilter') m.push({ value: p.k * p.k * p.cin, label: 'forgot the bias' }, { value: p.k * p.k + 1, label: 'forgot the input depth (a filter spans all input channels)' });
    if (p.quantity === 'parameters') m.push({ value: p.k * p.k * p.cin * p.filters, label: 'forgot the biases' }, { value: (p.k * p.k + 1) * p.filters, label: 'forgot the input depth (a filter spans all input channels)' });
    if (p.quantity === 'connections' || p.quantity === 'weightsNoSharing') m.push({ value: out * out * p.filters * p.k * p.k * p.cin, label: 'forgot the bias connections' });
    if (p.quantity === 'neurons') m.push({ value: out * out, label: 'counted one output channel only' });
    if (p.quantity === 'outputWidth' && p.pad) m.push({ value: convOutput(p.in, p.k, p.stride, 0), label: 'forgot the padding' });
    return m;
  },
  vary: (rng, p) => ({ ...p, in: rng.int(8, 64), cin: pick(rng, [1, 3, 16, 32]), k: pick(rng, [1, 3, 5, 7]), filters: rng.int(2, 96), stride: rng.int(1, 2), pad: rng.int(0, 2) }),
};

const stackKind: Kind = {
  name: 'stackedConvs',
  exact: true,
  question(p) {
    const q: Record<string, string> = {
      receptiveField: 'How large is the receptive field of one output (its side)?',
      weightsStack: `How many weights do the ${p.layers} layers have together (C channels in and out; biases ignored), in units of C²?`,
      weightsSingle: 'How many weights would a single conv with that receptive field have, in units of C²?',
    };
    return `${p.layers} stacked ${p.k}×${p.k} convolutions, stride 1. ${q[p.quantity]}`;
  },
  answer(p) {
    const rf = receptiveField(Array.from({ length: p.layers }, () => ({ k: p.k }))).size;
    return p.quantity === 'receptiveField' ? rf : p.quantity === 'weightsStack' ? p.layers * p.k * p.k : rf * rf;
  },
  steps(p) {
    const rf = 1 + p.layers * (p.k - 1);
    return [`Each stride-1 ${p.k}×${p.k} layer adds k − 1 = ${p.k - 1}: 1 + ${p.layers}·${p.k - 1} = ${rf}.`, `Stack: ${p.layers}·(${p.k}²·C²) = ${p.layers * p.k * p.k}C²; one ${rf}×${rf} conv: ${rf * rf}C².`];
  },
  mistakes: (p) => (p.quantity === 'receptiveField' ? [{ value: p.layers * p.k, label: 'added the kernel sizes (each layer adds k − 1, not k)' }] : []),
  vary: (rng, p) => ({ ...p, layers: rng.int(2, 5), k: pick(rng, [3, 5]) }),
};

const rfKind: Kind = {
  name: 'receptiveField',
  exact: true,
  question: (p) => `A stack of layers, input to output: ${p.layers.map((l: P) => `${l.type ?? 'conv'} ${l.k}×${l.k} stride ${l.s ?? 1}`).join(', ')}. What is the receptive field (side) of one final output?`,
  answer: (p) => receptiveField(p.layers).size,
  steps(p) {
    let r = 1;
    let j = 1;
    const s = ['Recurrence: r ← r + (k − 1)·j, then j ← j·s (j = input pixels between neighbouring outputs), from r = j = 1.'];
    for (const l of p.layers) {
      r += (l.k - 1) * j;
      s.push(`${l.type ?? 'conv'} ${l.k}×${l.k}/${l.s ?? 1}: r = ${r}${(l.s ?? 1) > 1 ? `, j = ${j * l.s}` : ''}.`);
      j *= l.s ?? 1;
    }
    return s;
  },
  mistakes: (p) => [{ value: 1 + p.layers.reduce((a: number, l: P) => a + l.k - 1, 0), label: 'ignored the strides (a strided layer multiplies the growth of the later layers)' }],
  vary: (rng) => ({ layers: Array.from({ length: rng.int(2, 5) }, () => ({ type: pick(rng, ['conv', 'conv', 'pool']), k: pick(rng, [2, 3, 5]), s: rng.int(1, 2) })) }),
};

const fcAsConvKind: Kind = {
  name: 'fcAsConv',
  exact: true,
  question: (p) =>
    p.quantity === 'weights'
      ? `A fully connected layer with ${p.units} units on a ${p.h}×${p.w}×${p.c} input: how many weights (no biases)?`
      : `A fully connected layer with ${p.units} units on a ${p.h}×${p.w}×${p.c} input equals a conv layer with ${p.units} filters of ${p.h}×${p.w}. What is that conv's output volume?`,
  answer: (p) => (p.quantity === 'weights' ? convParams([p.h, p.w], p.c, p.units, false) : [convOutput(p.h, p.h), convOutput(p.w, p.w), p.units]),
  steps: (p) => [`A ${p.h}×${p.w} filter over a ${p.h}×${p.w} input fits once: output 1×1×${p.units}.`, `Weights: ${p.h}·${p.w}·${p.c}·${p.units} = ${p.h * p.w * p.c * p.units}.`],
  mistakes: (p) => (p.quantity === 'weights' ? [{ value: p.h * p.w * p.c, label: 'counted the weights of one unit only' }] : []),
  vary: (rng, p) => ({ ...p, h: pick(rng, [3, 5, 7]), w: pick(rng, [3, 5, 7]), c: pick(rng, [64, 128, 256, 512]), units: pick(rng, [256, 1024, 4096]) }),
};

const volumeKind: Kind = {
  name: 'volume',
  exact: true,
  question(p) {
    if (p.branches) return `An Inception module on a ${p.h}×${p.w} input concatenates branches with ${p.branches.join(', ')} channels (all ${p.h}×${p.w}). What is the output volume?`;
    return `A ${p.h}×${p.w}×${p.c} input goes through ${p.filters} filters of 1×1 (stride 1). What is the output volume?`;
  },
  answer: (p) => (p.branches ? [p.h, p.w, p.branches.reduce((a: number, b: number) => a + b, 0)] : [convOutput(p.h, 1), convOutput(p.w, 1), p.filters]),
  steps: (p) => (p.branches ? [`Concatenation stacks channels: ${p.branches.join(' + ')} = ${p.branches.reduce((a: number, b: number) => a + b, 0)}.`] : [`A 1×1 filter keeps the size; each output value is a ${p.c}-dimensional dot product; ${p.filters} filters give ${p.filters} channels.`]),
  mistakes: (p) => (p.branches ? [] : [{ value: [p.h, p.w, p.c], label: 'kept the input depth (the output depth is the number of filters)' }]),
  vary: (rng, p) => (p.branches ? { ...p, h: pick(rng, [7, 14, 28]), w: pick(rng, [7, 14, 28]), branches: Array.from({ length: 4 }, () => 32 * rng.int(1, 8)) } : { ...p, h: rng.int(7, 64), w: rng.int(7, 64), c: pick(rng, [32, 64, 128]), filters: pick(rng, [16, 32, 64]) }),
};

function model(p: P) {
  const m = parseModel(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'exercises', 'models', `${p.model}.json`), 'utf8')));
  if (p.input) m.input = [p.input, p.input, m.input[2]];
  return { m, s: summarize(m) };
}

const modelKind: Kind = {
  name: 'modelTotals',
  exact: true,
  question(p) {
    const { m } = model(p);
    const q: Record<string, string> = {
      weights: 'How many weights does it have, biases not counted?',
      parameters: 'How many parameters does it have, biases included?',
      activations: 'How many activation values does one forward pass store (the input and every conv, pool and FC output; ReLUs in place)?',
      fc1Weights: 'How many weights does its first fully connected layer have?',
    };
    return `${m.name} on a ${m.input.join('×')} input (3×3 convs with padding 1, 2×2 max pools, FC ${m.name === 'VGG-16' ? '4096, 4096, 1000' : 'layers'}). ${q[p.quantity]}`;
  },
  answer(p) {
    const { s } = model(p);
    if (p.quantity === 'weights') return s.total.weights;
    if (p.quantity === 'parameters') return s.total.weights + s.total.biases;
    if (p.quantity === 'fc1Weights') return s.rows.find((r) => r.name === 'fc1')!.weights;
    return s.total.activations;
  },
  steps(p) {
    const { s } = model(p);
    return [...s.rows.filter((r) => r.activations || r.weights).map((r) => `${r.name}: ${r.shape.join('×')} → ${r.activations.toLocaleString('en-US')} values, ${r.weights.toLocaleString('en-US')} weights + ${r.biases.toLocaleString('en-US')} biases`), `Answer: ${Number(this.answer(p)).toLocaleString('en-US')}.`];
  },
  mistakes(p) {
    const { s } = model(p);
    if (p.quantity === 'activations') return [{ value: s.total.activations - s.rows[0].activations, label: 'left out the input' }];
    if (p.quantity === 'parameters') return [{ value: s.total.weights, label: 'forgot the biases' }];
    if (p.quantity === 'weights') return [{ value: s.total.weights + s.total.biases, label: 'counted the biases too' }];
    return [];
  },
  vary: (rng, p) => ({ ...p, input: pick(rng, [64, 96, 128, 160, 192, 224]) }),
};

const convolveKind: Kind = {
  name: 'convolveByHand',
  exact: false,
  question: (p) => `Compute ${p.flip === false ? 'the correlation' : 'the convolution'} of a = ${fmt(p.a)} with b = ${fmt(p.b)}${p.mode && p.mode !== 'full' ? `, "${p.mode}" size (zero padding, centred)` : ' (full size)'}${p.b.length === 3 && Array.isArray(p.b[0]) ? '' : ''}.`,
  answer: (p) => nested(run('convolve', { a: toArr(p.a), b: toArr(p.b) }, { mode: p.mode ?? 'full', flip: p.flip ?? true }).y),
  steps(p) {
    const full = run('convolve', { a: toArr(p.a), b: toArr(p.b) }, { mode: 'full', flip: p.flip ?? true }).y;
    return [
      p.flip === false ? 'Correlation slides b over a without flipping: c[x] = Σ_u a[u]·b[u − x + k − 1].' : 'Convolution flips b: c[x] = Σ_u a[u]·b[x − u] (1-based in the notes: c_xy = Σ a_uv b_(x−u+1, y−v+1)).',
      `Full result (size n + k − 1 per axis): ${fmt(nested(full))}.`,
      ...(p.mode === 'same' ? [`"same" keeps a's size, starting at ⌊(k − 1)/2⌋ of the full result.`] : []),
      `Answer: ${fmt(this.answer(p))}.`,
    ];
  },
  mistakes: (p) => [{ value: nested(run('convolve', { a: toArr(p.a), b: toArr(p.b) }, { mode: p.mode ?? 'full', flip: !(p.flip ?? true) }).y), label: p.flip === false ? 'flipped the kernel (that is convolution, not correlation)' : 'did not flip the kernel (that is correlation, what CNN libraries call convolution)' }],
  vary(rng, p) {
    if (Array.isArray(p.a[0])) return { ...p, a: randGrid(rng, 3, 3), b: randGrid(rng, 3, 3, -2, 2) };
    return { ...p, a: Array.from({ length: rng.int(3, 5) }, () => rng.int(-3, 3)), b: Array.from({ length: 3 }, () => rng.int(-2, 3)) };
  },
};

function toArr(a: number[] | number[][]): Arr {
  return Array.isArray(a[0]) ? fromData((a as number[][]).flat(), [a.length, (a as number[][])[0].length]) : fromData(a as number[], [a.length]);
}

const bnKind: Kind = {
  name: 'batchNormByHand',
  exact: false,
  question: (p) =>
    `Batch normalisation in training mode, one channel, a batch of ${p.maps.length} maps: ${p.maps.map(fmt).join(' and ')}; γ = ${p.gamma}, β = ${p.beta}, ε = ${p.eps}. ${p.quantity === 'mean' ? 'What is the batch mean μ?' : p.quantity === 'variance' ? 'What is the batch variance σ²?' : 'What is the output (same layout as the input, 4 significant digits)?'}`,
  answer(p) {
    const N = p.maps.length;
    const [H, W] = [p.maps[0].length, p.maps[0][0].length];
    const r = run('batchNorm', { x: fromData(p.maps.flat(2), [N, 1, H, W]), weight: fromData([p.gamma], [1]), bias: fromData([p.beta], [1]) }, { training: true, eps: p.eps });
    if (p.quantity === 'mean') return r.batchMean.data[0];
    if (p.quantity === 'variance') return r.batchVar.data[0];
    return nested(fromData(r.y.data, [N, H, W]));
  },
  steps(p) {
    const vals: number[] = p.maps.flat(2);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    const v = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length;
    return [
      `μ = Σx / n over all ${vals.length} values of the channel = ${fmt(mu)}.`,
      `σ² = Σ(x − μ)² / n = ${fmt(v)} (the biased variance: divide by n, not n − 1).`,
      `y = γ·(x − μ)/√(σ² + ε) + β = ${p.gamma}·(x − ${fmt(mu)})/${fmt(Math.sqrt(v + p.eps))} + ${p.beta}.`,
      `Answer: ${fmt(this.answer(p))}.`,
    ];
  },
  mistakes(p) {
    const vals: number[] = p.maps.flat(2);
    const n = vals.length;
    const mu = vals.reduce((a, b) => a + b, 0) / n;
    const v = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / n;
    const y = (den: number, g = p.gamma) => p.maps.map((m: number[][]) => m.map((row) => row.map((x) => (g * (x - mu)) / den + p.beta)));
    if (p.quantity === 'mean') return [];
    if (p.quantity === 'variance') return [{ value: (v * n) / (n - 1), label: 'used the unbiased variance (n − 1); batch norm divides by n' }, { value: Math.sqrt(v), label: 'gave the standard deviation σ, not the variance σ²' }];
    return [
      { value: y(Math.sqrt((v * n) / (n - 1) + p.eps)), label: 'used the unbiased variance (n − 1); batch norm divides by n' },
      { value: y(Math.sqrt(v + p.eps), 1), label: 'forgot to multiply by γ' },
      { value: y(v + p.eps), label: 'divided by the variance instead of its square root' },
    ];
  },
  vary: (rng, p) => ({ ...p, maps: p.maps.map(() => randGrid(rng, 2, 2, 0, 9)), gamma: pick(rng, [0.5, 1, 1.5, 2]), beta: pick(rng, [0, 0.5, 1]) }),
};

const poolByHandKind: Kind = {
  name: 'poolByHand',
  exact: false,
  question: (p) => `${p.type === 'avg' ? 'Average' : 'Max'}-pool the map ${fmt(p.map)} with a ${p.k}×${p.k} window and stride ${p.stride}.`,
  answer: (p) => nested(run(p.type === 'avg' ? 'avgPool2d' : 'maxPool2d', { x: grid(p.map) }, { kernelSize: p.k, stride: p.stride }).y, 2),
  steps: (p) => [`Each output is the ${p.type === 'avg' ? 'mean' : 'maximum'} of one ${p.k}×${p.k} window, windows ${p.stride} apart.`, `Answer: ${fmt(poolByHandKind.answer(p))}.`],
  mistakes: (p) => [{ value: nested(run(p.type === 'avg' ? 'maxPool2d' : 'avgPool2d', { x: grid(p.map) }, { kernelSize: p.k, stride: p.stride }).y, 2), label: p.type === 'avg' ? 'took the maximum instead of the mean' : 'took the mean instead of the maximum' }],
  vary: (rng, p) => ({ ...p, map: randGrid(rng, 4, 4) }),
};

const unpoolKind: Kind = {
  name: 'unpoolByHand',
  exact: true,
  question(p) {
    const how: Record<string, string> = {
      nearest: 'nearest-neighbour unpooling (each value copied into its 2×2 block)',
      'bed-of-nails': '"bed of nails" unpooling (each value in the top-left cell of its 2×2 block, zeros elsewhere)',
      max: `max unpooling, the values going back to the positions remembered by the max pooling: ${fmt(p.positions)} (flat index within the 4×4 map)`,
    };
    return `Unpool the 2×2 map ${fmt(p.map)} to 4×4 by ${how[p.mode]}.`;
  },
  answer(p) {
    const x = grid(p.map);
    if (p.mode === 'nearest') return nested(run('upsample2d', { x }, { scaleFactor: 2 }).y, 2);
    const idx = p.mode === 'max' ? p.positions.flat() : [0, 2, 8, 10];
    return nested(run('maxUnpool2d', { x, indices: fromData(idx, [1, 1, 2, 2]) }, { kernelSize: 2 }).y, 2);
  },
  steps: (p) => [p.mode === 'nearest' ? 'Copy every value into the four cells of its block.' : 'Put every value at its remembered (or top-left) position; all other cells are 0.', `Answer: ${fmt(unpoolKind.answer(p))}.`],
  mistakes: () => [],
  vary(rng, p) {
    const map = randGrid(rng, 2, 2, 1, 9);
    const positions = [[0, 1], [0, 1]].map((_, i) => [0, 1].map((j) => (2 * i + rng.int(0, 1)) * 4 + 2 * j + rng.int(0, 1)));
    return { ...p, map, positions };
  },
};

const transposedKind: Kind = {
  name: 'transposedConv1d',
  exact: false,
  question: (p) => `A 1-D transposed convolution: input ${fmt(p.input)}, kernel ${fmt(p.kernel)}, stride ${p.stride}, padding 0${p.outputPadding ? `, output padding ${p.outputPadding}` : ''}. What is the output?`,
  answer: (p) => nested(run('convTranspose1d', { x: fromData(p.input, [1, 1, p.input.length]), weight: fromData(p.kernel, [1, 1, p.kernel.length]) }, { stride: p.stride, outputPadding: p.outputPadding ?? 0 }).y, 1),
  steps(p) {
    return [
      `Each input value stamps a copy of the kernel scaled by it; copies start ${p.stride} apart and are summed where they overlap (equivalently: multiply by the transpose of the strided conv's matrix).`,
      `Symbolically, input [a, b] and kernel [x, y, z] with stride 2 give [ax, ay, az + bx, by, bz]${p.outputPadding ? ' and the output padding adds a 0' : ''}.`,
      `Length: (n − 1)·s + k${p.outputPadding ? ' + output padding' : ''} = ${(p.input.length - 1) * p.stride + p.kernel.length + (p.outputPadding ?? 0)}.`,
      `Answer: ${fmt(this.answer(p))}.`,
    ];
  },
  mistakes(p) {
    const n = (p.input.length - 1) * p.stride + p.kernel.length + (p.outputPadding ?? 0);
    const overwrite = new Array(n).fill(0);
    p.input.forEach((v: number, i: number) => p.kernel.forEach((w: number, k: number) => (overwrite[i * p.stride + k] = v * w)));
    const m: WrongAnswer[] = [{ value: overwrite, label: 'overwrote the overlapping copies instead of summing them' }];
    if (p.outputPadding) m.push({ value: (this.answer(p) as number[]).slice(0, n - p.outputPadding), label: 'forgot the output padding' });
    return m;
  },
  vary: (rng, p) => ({ ...p, input: Array.from({ length: p.input.length }, () => rng.int(1, 5)), kernel: Array.from({ length: p.kernel.length }, () => rng.int(-2, 4)) }),
};

const roiPoolKind: Kind = {
  name: 'roiPoolByHand',
  exact: false,
  question: (p) => `RoI max pooling (Fast R-CNN / torchvision: corners rounded, inclusive, so width x2 − x1 + 1) of the region x ${p.box[0]}…${p.box[2]}, y ${p.box[1]}…${p.box[3]} of the map ${fmt(p.map)} into ${p.out}×${p.out} bins.`,
  answer: (p) => nested(run('roiPool', { x: grid(p.map), boxes: fromData([0, ...p.box], [1, 5]) }, { outputSize: p.out }).y, 2),
  steps(p) {
    const w = p.box[2] - p.box[0] + 1;
    const h = p.box[3] - p.box[1] + 1;
    return [`Region ${w} wide and ${h} high; bins of ${fmt(w / p.out)}×${fmt(h / p.out)} cells: bin i spans ⌊i·size⌋ … ⌈(i+1)·size⌉ (exclusive), so uneven bins overlap.`, `Max of each bin: ${fmt(this.answer(p))}.`];
  },
  mistakes: (p) => [{ value: nested(run('roiPool', { x: grid(p.map), boxes: fromData([0, p.box[0], p.box[1], p.box[2] - 1, p.box[3] - 1], [1, 5]) }, { outputSize: p.out }).y, 2), label: 'left out the +1 (the corners are inclusive)' }],
  vary: (rng, p) => ({ ...p, map: randGrid(rng, p.map.length, p.map[0].length) }),
};

const iouKind: Kind = {
  name: 'iouByHand',
  exact: false,
  question: (p) => `What is the IoU of the boxes ${fmt(p.box1)} and ${fmt(p.box2)} (x1, y1, x2, y2; widths x2 − x1)?`,
  answer: (p) => run('boxIou', { boxes1: fromData(p.box1, [1, 4]), boxes2: fromData(p.box2, [1, 4]) }, {}).iou.data[0],
  steps(p) {
    const [a, b] = [p.box1, p.box2];
    const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    const A = (a[2] - a[0]) * (a[3] - a[1]);
    const B = (b[2] - b[0]) * (b[3] - b[1]);
    return [`Intersection ${iw}×${ih} = ${iw * ih}; areas ${A} and ${B}; union ${A} + ${B} − ${iw * ih} = ${A + B - iw * ih}.`, `IoU = ${iw * ih}/${A + B - iw * ih} = ${fmt(this.answer(p))}.`];
  },
  mistakes(p) {
    const [a, b] = [p.box1, p.box2];
    const inter = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    const A = (a[2] - a[0]) * (a[3] - a[1]);
    const B = (b[2] - b[0]) * (b[3] - b[1]);
    return [
      { value: run('boxIou', { boxes1: fromData(p.box1, [1, 4]), boxes2: fromData(p.box2, [1, 4]) }, { pixelInclusive: true }).iou.data[0], label: 'used the +1 pixel convention (widths x2 − x1 + 1)' },
      { value: inter / (A + B), label: 'forgot to subtract the intersection from the union' },
    ];
  },
  vary(rng) {
    const box = () => {
      const x = rng.int(0, 6);
      const y = rng.int(0, 6);
      return [x, y, x + rng.int(2, 6), y + rng.int(2, 6)];
    };
    return { box1: box(), box2: box() };
  },
};

const nmsKind: Kind = {
  name: 'nmsByHand',
  exact: true,
  question: (p) => `Greedy NMS with IoU threshold ${p.threshold} (suppress when IoU > threshold) on boxes ${p.boxes.map((b: number[], i: number) => `#${i} ${fmt(b)} score ${p.scores[i]}`).join('; ')}. Which boxes are kept, in order of decreasing score? (indices)`,
  answer: (p) => Array.from(run('nms', { boxes: fromData(p.boxes.flat(), [p.boxes.length, 4]), scores: fromData(p.scores, [p.scores.length]) }, { iouThreshold: p.threshold }).keep.data),
  steps(p) {
    const iou = run('boxIou', { boxes1: fromData(p.boxes.flat(), [p.boxes.length, 4]), boxes2: fromData(p.boxes.flat(), [p.boxes.length, 4]) }, {}).iou;
    const order = p.scores.map((_: number, i: number) => i).sort((i: number, j: number) => p.scores[j] - p.scores[i] || i - j);
    const kept: number[] = [];
    const s = [`Visit the boxes by decreasing score: ${order.map((i: number) => '#' + i).join(', ')}.`];
    for (const i of order) {
      const by = kept.find((k) => iou.get(k, i) > p.threshold);
      if (by === undefined) kept.push(i);
      s.push(by === undefined ? `#${i}: keep.` : `#${i}: IoU with #${by} is ${fmt(iou.get(by, i))} > ${p.threshold}: suppressed.`);
    }
    s.push(`Answer: ${fmt(kept)}.`);
    return s;
  },
  mistakes(p) {
    const ge = run('nms', { boxes: fromData(p.boxes.flat(), [p.boxes.length, 4]), scores: fromData(p.scores, [p.scores.length]) }, { iouThreshold: p.threshold - 1e-12 }).keep;
    return [{ value: Array.from(ge.data), label: 'suppressed at IoU ≥ threshold (it must be strictly greater)' }, { value: [...(this.answer(p) as number[])].sort((a, b) => a - b), label: 'listed the kept boxes by index, not by decreasing score' }];
  },
  vary(rng, p) {
    const boxes = p.boxes.map(() => {
      const x = rng.int(0, 8);
      const y = rng.int(0, 8);
      return [x, y, x + rng.int(2, 5), y + rng.int(2, 5)];
    });
    const scores = p.scores.map(() => rng.int(10, 99) / 100);
    return { ...p, boxes, scores: scores.map((v: number, i: number) => (scores.indexOf(v) === i ? v : v - 0.001 * i)) };
  },
};

const softmaxKind: Kind = {
  name: 'softmaxCrossEntropy',
  exact: false,
  question: (p) => `Scores ${fmt(p.scores)}, true class ${p.target} (0-based). ${p.quantity === 'loss' ? 'What is the cross-entropy loss L = −Σ t_i log p_i (natural log)?' : 'What are the softmax probabilities?'}`,
  answer(p) {
    const x = fromData(p.scores, [1, p.scores.length]);
    if (p.quantity === 'loss') return run('crossEntropy', { logits: x, target: fromData([p.target], [1]) }, {}).loss.data[0];
    return Array.from(run('softmax', { x }, {}).y.data);
  },
  steps(p) {
    const e = p.scores.map((v: number) => Math.exp(v));
    const s = e.reduce((a: number, b: number) => a + b, 0);
    return [`e^scores = ${fmt(e)}, sum ${fmt(s)}.`, `p = e^score / sum = ${fmt(e.map((v: number) => v / s))}.`, ...(p.quantity === 'loss' ? [`L = −log p_${p.target} = −ln ${fmt(e[p.target] / s)} = ${fmt(-Math.log(e[p.target] / s))}.`] : [])];
  },
  mistakes(p) {
    if (p.quantity !== 'loss') return [{ value: p.scores.map((v: number) => v / p.scores.reduce((a: number, b: number) => a + b, 0)), label: 'normalised the scores without exponentiating them' }];
    const pt = Math.exp(p.scores[p.target]) / p.scores.reduce((a: number, b: number) => a + Math.exp(b), 0);
    return [{ value: -Math.log10(pt), label: 'used log base 10 (cross-entropy uses the natural log)' }, { value: -Math.log2(pt), label: 'used log base 2 (cross-entropy uses the natural log)' }];
  },
  vary: (rng, p) => ({ ...p, scores: p.scores.map(() => rng.int(-3, 5)), target: rng.int(0, p.scores.length - 1) }),
};

const detectorKind: Kind = {
  name: 'detectorSizes',
  exact: true,
  question(p) {
    if (p.detector === 'yolo') return `A YOLO-style detector divides the image into ${p.S}×${p.S} cells, each predicting ${p.B} boxes (x, y, w, h, confidence) and ${p.C} class scores. What is the output volume?`;
    return `A region proposal network runs on a ${p.C}×${p.H}×${p.W} feature map with ${p.K} anchors per cell. What is the shape of its ${p.quantity === 'objectness' ? 'objectness scores (one per anchor)' : 'box corrections (four per anchor)'}, as channels×H×W?`;
  },
  answer: (p) => (p.detector === 'yolo' ? [p.S, p.S, 5 * p.B + p.C] : [p.quantity === 'objectness' ? p.K : 4 * p.K, p.H, p.W]),
  steps: (p) => (p.detector === 'yolo' ? [`Each cell: ${p.B}·5 box numbers + ${p.C} class scores = ${5 * p.B + p.C}.`] : [`One ${p.quantity === 'objectness' ? 'score' : 'set of 4 corrections'} per anchor per cell: ${p.quantity === 'objectness' ? p.K : 4 * p.K} channels on the ${p.H}×${p.W} grid.`]),
  mistakes: (p) => (p.detector === 'yolo' ? [{ value: [p.S, p.S, 5 + p.C], label: 'counted one box per cell' }, { value: [p.S, p.S, 4 * p.B + p.C], label: 'forgot the confidence of each box' }] : [{ value: [p.quantity === 'objectness' ? 1 : 4, p.H, p.W], label: 'forgot the K anchors per cell' }]),
  vary: (rng, p) => (p.detector === 'yolo' ? { ...p, S: rng.int(5, 13), B: rng.int(1, 3), C: pick(rng, [20, 80]) } : { ...p, H: rng.int(10, 40), W: rng.int(10, 40), K: pick(rng, [3, 9, 15]) }),
};

export const KINDS: Record<string, Kind> = Object.fromEntries(
  [convOutputKind, transposedOutputKind, samePaddingKind, poolKind, convLayerKind, stackKind, rfKind, fcAsConvKind, volumeKind, modelKind, convolveKind, bnKind, poolByHandKind, unpoolKind, transposedKind, roiPoolKind, iouKind, nmsKind, softmaxKind, detectorKind].map((k) => [k.name, k]),
);
