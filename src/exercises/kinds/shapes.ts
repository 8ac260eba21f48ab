/**
 * Exercise kinds about sizes and counts: conv, pool and transposed-conv output sizes, padding,
 * parameter / neuron / connection counts, receptive fields, whole models and detector heads.
 * Every size goes through the op's own shape check (sizes.ts), so a variant PyTorch would reject
 * is rejected here too and redrawn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mustache from 'mustache';
import type { Rng } from '../../rng.js';
import { PACKAGE_ROOT } from '../../grading/assignment.js';
import { convOutputChecked, convOutputExact, convParams, poolOutputChecked, receptiveField, transposedOutputChecked } from '../sizes.js';
import { layerNames, parseModel, summarize, type Layer, type Model } from '../summary.js';
import { dims, num, sum, type Answer, type Kind, type P, type WrongAnswer } from './common.js';

const pair = (x: number | number[]): [number, number] => (Array.isArray(x) ? [x[0], x[1]] : [x, x]);
const inText = (p: P) => (Array.isArray(p.in) ? dims(p.in) : `${p.in}×${p.in}`);

/**
 * New numbers for a conv question. Every draw happens in the same order whatever the question
 * asks, so the parts of one question (its group: the volume, the parameters, the neurons …) get
 * the same layer; only the keys the notes' version has are kept, and those in `p.fixed` stay.
 */
function varyConv(rng: Rng, p: P): P {
  const n = rng.int(5, 64);
  const draw: P = {
    in: Array.isArray(p.in) ? [n, rng.int(5, 64)] : n,
    k: rng.pick([1, 3, 5, 7, 11]),
    stride: rng.int(1, 4),
    pad: rng.int(0, 3),
    padEnd: rng.int(0, 3),
    filters: rng.int(2, 128),
    cin: rng.pick([1, 3, 16, 32, 64]),
    dilation: rng.int(2, 3),
  };
  const repeat = { repeat: rng.int(2, 4), in: rng.int(24, 64), k: rng.pick([3, 5]), stride: 1, pad: 0 };
  const chain = [
    [rng.pick([1, 3, 5]), rng.int(2, 64)],
    [rng.pick([1, 3, 5]), rng.int(2, 64)],
    [rng.pick([1, 3, 5]), rng.int(2, 64)],
  ];
  const out: P = { ...p };
  for (const key of Object.keys(draw)) if (key in p && !(p.fixed ?? []).includes(key)) out[key] = draw[key];
  if (p.repeat) Object.assign(out, repeat);
  if (p.chain) out.chain = chain;
  return out;
}

/** The layer a conv question is about: its own numbers, or layer `layer` of a chain (conv1 → conv2 → conv3). */
function layerOf(p: P): { in: number | number[]; cin: number; k: number; filters: number; stride: number; pad: number } {
  if (!p.chain) return { in: p.in, cin: p.cin ?? 1, k: p.k, filters: p.filters ?? 1, stride: p.stride ?? 1, pad: p.pad ?? 0 };
  const [k, filters] = p.chain[p.layer];
  const cin = p.layer === 0 ? p.cin : p.chain[p.layer - 1][1];
  return { in: p.in, cin, k, filters, stride: 1, pad: (k - 1) / 2 };
}

const convOutputKind: Kind = {
  name: 'convOutput',
  exact: true,
  question(p) {
    const depth = p.cin ? `×${p.cin}` : '';
    const pad = p.padEnd !== undefined ? `padding ${p.pad} before and ${p.padEnd} after (P⁻ = ${p.pad}, P⁺ = ${p.padEnd})` : `zero padding ${p.pad}`;
    const what = p.filters ? `${p.filters} filters of ${p.k}×${p.k}` : `a ${p.k}×${p.k} filter`;
    const fit = p.requireFit ? ' If the filter does not fit the input evenly, answer "none".' : '';
    if (p.repeat > 1) return `A ${inText(p)}${depth} input is convolved ${p.repeat} times in a row with ${what}, stride ${p.stride}, ${pad}. What is the width after the last convolution?`;
    const ask = p.filters ? 'What is the output volume (H×W×K)?' : Array.isArray(p.in) ? 'What is the output size (H×W)?' : 'What is the output width?';
    return `A ${inText(p)}${depth} input is convolved with ${what}, stride ${p.stride}, ${pad}${p.dilation > 1 ? `, dilation ${p.dilation}` : ''}. ${ask}${fit}`;
  },
  answer(p) {
    if (p.repeat > 1) return repeated(p).at(-1)!;
    const out = convOutputChecked(pair(p.in), { k: p.k, stride: p.stride, pad: p.pad, padEnd: p.padEnd, dilation: p.dilation });
    if (p.requireFit && exactOut(p).some((v) => !Number.isInteger(v))) return 'none';
    if (p.filters) return [...out, p.filters];
    return Array.isArray(p.in) ? out : out[0];
  },
  steps(p) {
    if (p.repeat > 1) {
      const chain = repeated(p);
      return [`Each convolution: out = (in + 2P − F)/S + 1; with F = ${p.k}, S = ${p.stride}, P = ${p.pad} it shrinks the map by ${p.k - 1 - 2 * p.pad}.`, `${chain.join(' → ')}.`];
    }
    const ins: number[] = Array.isArray(p.in) ? p.in : [p.in];
    const d = p.dilation ?? 1;
    const kEff = d * (p.k - 1) + 1;
    const pe = p.padEnd ?? p.pad;
    const lines = [`out = ⌊(in + P⁻ + P⁺ − k_eff) / s⌋ + 1, with k_eff = d·(k − 1) + 1 = ${d}·(${p.k} − 1) + 1 = ${kEff}.`];
    for (const n of ins) {
      const ex = convOutputExact(n, p.k, p.stride, p.pad, pe, d);
      const tail = Number.isInteger(ex) ? '' : p.requireFit ? ': not an integer, so the filter does not fit evenly' : `, rounded down: ${Math.floor(ex)}`;
      lines.push(`in = ${n}: (${n} + ${p.pad} + ${pe} − ${kEff}) / ${p.stride} + 1 = ${num(ex)}${tail}.`);
    }
    if (p.filters) lines.push(`Each of the ${p.filters} filters gives one output channel.`);
    return lines;
  },
  mistakes(p) {
    if (p.repeat > 1) return [{ value: repeated(p)[1], label: 'applied the convolution only once' }];
    const ins = pair(p.in);
    const shape = (v: Answer[]) => (p.filters ? [...v, p.filters] : Array.isArray(p.in) ? v : v[0]);
    const sizes = (o: P) => shape(ins.map((n) => Math.floor(convOutputExact(n, o.k ?? p.k, o.stride ?? p.stride, o.pad ?? p.pad, o.padEnd ?? p.padEnd ?? o.pad ?? p.pad, o.dilation ?? p.dilation ?? 1))));
    const m: WrongAnswer[] = [];
    if (p.pad || p.padEnd) m.push({ value: sizes({ pad: 0, padEnd: 0 }), label: 'forgot the padding' });
    if (p.pad && p.padEnd === undefined) m.push({ value: sizes({ padEnd: 0 }), label: 'padded one side only (the padding goes on both sides)' });
    if ((p.dilation ?? 1) > 1) m.push({ value: sizes({ dilation: 1 }), label: 'ignored the dilation (the kernel spans d·(k − 1) + 1 cells)' });
    const ex = exactOut(p);
    if (ex.some((v) => !Number.isInteger(v))) {
      m.push({ value: shape(ex), label: 'did not round down (the formula takes the floor)' });
      m.push({ value: shape(ex.map(Math.ceil)), label: 'rounded up (the formula takes the floor: a window that would stick out is dropped)' });
      if (p.requireFit) m.push({ value: shape(ex.map(Math.floor)), label: 'rounded down, but the question asks whether the filter fits evenly' });
    }
    if (p.stride > 1) m.push({ value: sizes({ stride: 1 }), label: 'ignored the stride' });
    return m;
  },
  hint: (p) => (p.repeat > 1 ? 'apply out = (in + 2P − F)/S + 1 once per convolution, feeding each output into the next' : 'out = ⌊(in + P⁻ + P⁺ − k_eff)/s⌋ + 1 with k_eff = d·(k − 1) + 1, for each axis'),
  vary: varyConv,
  keeps(v, base) {
    // a question whose numbers do not divide evenly stays uneven (and one that fits keeps fitting)
    const even = (p: P) => p.repeat > 1 || exactOut(p).every(Number.isInteger);
    return even(v) === even(base) || 'the variant changes whether the filter fits evenly';
  },
};

function exactOut(p: P): number[] {
  return pair(p.in).map((n) => convOutputExact(n, p.k, p.stride, p.pad, p.padEnd ?? p.pad, p.dilation ?? 1));
}

function repeated(p: P): number[] {
  const chain = [p.in as number];
  for (let r = 0; r < p.repeat; r++) chain.push(convOutputChecked([chain[r], chain[r]], { k: p.k, stride: p.stride, pad: p.pad })[0]);
  return chain;
}

const CONV_LAYER_QUESTIONS: Record<string, string> = {
  outputWidth: 'What is the output width?',
  outputSize: 'What is the output size (H×W)?',
  outputVolume: 'What is the output volume (H×W×K)?',
  weightsPerFilter: 'How many weights does each filter have, including its bias (its free parameters)?',
  neurons: 'How many neurons (output values) does the layer have?',
  connections: 'How many connections (weights from inputs into neurons, biases included) does it have?',
  parameters: 'How many independent parameters does it have (shared weights counted once, biases included)?',
  weightsNoSharing: 'How many weights would it have without parameter sharing?',
};

const convLayerKind: Kind = {
  name: 'convLayer',
  exact: true,
  question(p) {
    const l = layerOf(p);
    if (p.chain) {
      const names = p.chain.map(([k, f]: number[], i: number) => `conv${i + 1}: ${f} filters of ${k}×${k}`).join(', ');
      return `A ${inText(p)}×${p.cin} input goes through three conv layers in a row (stride 1, padding that keeps the size): ${names}. How many parameters (weights and biases) does conv${p.layer + 1} have?`;
    }
    return `A conv layer takes a ${inText(p)}×${l.cin} input and has ${l.filters} filters of ${l.k}×${l.k}, stride ${l.stride}, padding ${l.pad}. ${CONV_LAYER_QUESTIONS[p.quantity]}`;
  },
  answer(p) {
    const l = layerOf(p);
    const [ho, wo] = convOutputChecked(pair(l.in), { k: l.k, stride: l.stride, pad: l.pad });
    const perFilter = convParams(l.k, l.cin, 1, true);
    const neurons = ho * wo * l.filters;
    const q: Record<string, () => Answer> = {
      outputWidth: () => wo,
      outputSize: () => [ho, wo],
      outputVolume: () => [ho, wo, l.filters],
      weightsPerFilter: () => perFilter,
      neurons: () => neurons,
      parameters: () => convParams(l.k, l.cin, l.filters, true),
      connections: () => neurons * perFilter,
      weightsNoSharing: () => neurons * perFilter,
    };
    return q[p.quantity]();
  },
  steps(p) {
    const l = layerOf(p);
    const [ho, wo] = convOutputChecked(pair(l.in), { k: l.k, stride: l.stride, pad: l.pad });
    const [h, w] = pair(l.in);
    const per = l.k * l.k * l.cin + 1;
    const s = [
      `Output: ⌊(${h} + 2·${l.pad} − ${l.k})/${l.stride}⌋ + 1 = ${ho}${w !== h ? ` by ⌊(${w} + 2·${l.pad} − ${l.k})/${l.stride}⌋ + 1 = ${wo}` : ''}, ${l.filters} channels.`,
      `Each filter spans all ${l.cin} input channels: ${l.k}·${l.k}·${l.cin} + 1 = ${per} weights with its bias.`,
    ];
    if (['neurons', 'connections', 'weightsNoSharing'].includes(p.quantity)) s.push(`Neurons: ${ho}·${wo}·${l.filters} = ${ho * wo * l.filters}.`);
    if (['connections', 'weightsNoSharing'].includes(p.quantity)) s.push(`Each neuron has ${per} connections (its bias included): ${ho * wo * l.filters}·${per} = ${ho * wo * l.filters * per}; without parameter sharing each is its own weight.`);
    if (p.quantity === 'parameters') s.push(`With sharing, one set per filter: ${per}·${l.filters} = ${per * l.filters}.`);
    return s;
  },
  mistakes(p) {
    const l = layerOf(p);
    const [ho, wo] = convOutputChecked(pair(l.in), { k: l.k, stride: l.stride, pad: l.pad });
    const m: WrongAnswer[] = [];
    const kk = l.k * l.k;
    if (p.quantity === 'weightsPerFilter') m.push({ value: kk * l.cin, label: 'forgot the bias' }, { value: kk + 1, label: 'forgot the input depth (a filter spans all input channels)' });
    if (p.quantity === 'parameters') m.push({ value: kk * l.cin * l.filters, label: 'forgot the biases' }, { value: (kk + 1) * l.filters, label: 'forgot the input depth (a filter spans all input channels)' });
    if (p.chain && p.layer > 0) m.push({ value: (kk * p.cin + 1) * l.filters, label: 'used the image’s depth; a later layer’s input depth is the previous layer’s number of filters' });
    if (p.quantity === 'connections' || p.quantity === 'weightsNoSharing') m.push({ value: ho * wo * l.filters * kk * l.cin, label: 'forgot the bias connections' }, { value: (kk * l.cin + 1) * l.filters, label: 'counted the shared parameters (each neuron has its own connections)' });
    if (p.quantity === 'neurons') m.push({ value: ho * wo, label: 'counted one output channel only' });
    if (p.quantity.startsWith('output') && l.pad) {
      const [h0, w0] = pair(l.in).map((n) => Math.floor((n - l.k) / l.stride) + 1);
      m.push({ value: p.quantity === 'outputWidth' ? w0 : p.quantity === 'outputSize' ? [h0, w0] : [h0, w0, l.filters], label: 'forgot the padding' });
    }
    if (p.quantity === 'outputSize' || p.quantity === 'outputVolume') m.push({ value: p.quantity === 'outputSize' ? [ho, wo].reverse() : [wo, ho, l.filters], label: 'swapped the height and the width' });
    return m;
  },
  hint: (p) =>
    ({
      weightsPerFilter: 'a filter has F·F·C_in weights, C_in the depth of its input, plus one bias',
      parameters: 'parameters = (F·F·C_in + 1)·K: one shared filter with its bias per output channel',
      neurons: 'one neuron per output value: H_out·W_out·K',
      connections: 'each neuron connects to F·F·C_in inputs and a bias',
      weightsNoSharing: 'without sharing every neuron has its own F·F·C_in + 1 weights',
    })[p.quantity as string] ?? 'out = ⌊(in + 2P − F)/S⌋ + 1 for each axis',
  vary: varyConv,
};

const transposedOutputKind: Kind = {
  name: 'transposedOutput',
  exact: true,
  question: (p) => `A transposed convolution takes a ${p.in}×${p.in} input with a ${p.k}×${p.k} kernel, stride ${p.stride}, padding ${p.pad}${p.outputPadding ? `, output padding ${p.outputPadding}` : ''}. What is the output width?`,
  answer: (p) => transposedOutputChecked(p.in, p.k, p.stride, p.pad, p.outputPadding ?? 0),
  steps: (p) => [
    'out = (in − 1)·s − 2p + (k − 1) + outputPadding + 1: the conv formula solved for the input.',
    `(${p.in} − 1)·${p.stride} − 2·${p.pad} + (${p.k} − 1) + ${p.outputPadding ?? 0} + 1 = ${transposedOutputChecked(p.in, p.k, p.stride, p.pad, p.outputPadding ?? 0)}.`,
    ...(!p.outputPadding && p.stride > 1 && p.k - 2 * p.pad === 1 ? [`That is ${p.stride - 1} short of ${p.stride}·${p.in} = ${p.stride * p.in}: multiplying the size by the stride needs output padding ${p.stride - 1}.`] : []),
  ],
  mistakes: (p) => [
    p.k - 2 * p.pad === 1 && !p.outputPadding
      ? { value: p.in * p.stride, id: 'stride-only', label: `took the size to multiply by the stride (with k − 2p = 1 that needs output padding ${p.stride - 1})` }
      : { value: p.in * p.stride, id: 'stride-only', label: 'multiplied by the stride only (the kernel overhang and the padding change the size)' },
    { value: Math.floor((p.in + 2 * p.pad - p.k) / p.stride) + 1, label: 'used the (forward) convolution formula' },
    ...(p.outputPadding ? [{ value: transposedOutputChecked(p.in, p.k, p.stride, p.pad, 0), label: 'forgot the output padding' }] : []),
  ],
  hint: () => 'out = (in − 1)·s − 2p + k + outputPadding',
  vary(rng, p) {
    const stride = rng.int(2, 3);
    const [k, pad] = p.outputPadding ? [rng.pick([2, 3, 4, 5]), rng.int(0, 2)] : rng.pick([[3, 1], [5, 2]]);
    return { ...p, in: rng.int(2, 16), k, stride, pad, ...(p.outputPadding ? { outputPadding: rng.int(1, stride - 1) } : {}) };
  },
};

const samePaddingKind: Kind = {
  name: 'samePadding',
  exact: true,
  question: (p) => `With stride 1, how much zero padding on each side keeps the size of the input for a ${p.k}×${p.k} filter?`,
  answer(p) {
    const P = (p.k - 1) / 2;
    const [out] = convOutputChecked([4 * p.k, 4 * p.k], { k: p.k, pad: P });
    if (out !== 4 * p.k) throw new Error(`padding ${P} does not keep the size`);
    return P;
  },
  steps: (p) => [`out = in + 2P − F + 1 = in needs 2P = F − 1, so P = (F − 1)/2 = (${p.k} − 1)/2 = ${(p.k - 1) / 2}.`],
  mistakes: (p) => [{ value: p.k - 1, label: 'gave the total padding (both sides together)' }],
  hint: () => 'out = in + 2P − F + 1 must equal in',
  vary: (rng) => ({ k: rng.pick([3, 5, 7, 9, 11, 13]) }),
};

const poolKind: Kind = {
  name: 'poolOutput',
  exact: true,
  question(p) {
    if (p.quantity === 'parameters') return `A conv layer with ${p.filters} filters of ${p.k}×${p.k}, stride ${p.stride}, on a ${p.in}×${p.in}×${p.cin} input is followed by a ${p.pk}×${p.pk} max pooling with stride ${p.ps}. How many learnable parameters do the two layers have together?`;
    if (p.quantity === 'discarded') return `A ${p.k}×${p.k} max pooling with stride ${p.stride} on a ${p.in}×${p.in} map: what percentage of the activations does it discard?`;
    return `A ${p.in}×${p.in} map is max-pooled with a ${p.k}×${p.k} window, stride ${p.stride}. What is the output width?`;
  },
  answer(p) {
    if (p.quantity === 'parameters') {
      const [h] = convOutputChecked([p.in, p.in], { k: p.k, stride: p.stride });
      poolOutputChecked([h, h], p.pk, p.ps);
      return convParams(p.k, p.cin, p.filters) + 0; // pooling: a fixed max, nothing to learn
    }
    const [out] = poolOutputChecked([p.in, p.in], p.k, p.stride);
    if (p.quantity === 'discarded') return 100 * (1 - (out * out) / (p.in * p.in));
    return out;
  },
  steps(p) {
    if (p.quantity === 'parameters') {
      const c = convParams(p.k, p.cin, p.filters);
      return [`Conv: (${p.k}·${p.k}·${p.cin} + 1)·${p.filters} = ${c}.`, 'Pooling takes a fixed function (the max) of each window: nothing is learned, 0 parameters.', `Together: ${c} + 0 = ${c}.`];
    }
    const [out] = poolOutputChecked([p.in, p.in], p.k, p.stride);
    const s = [`W₂ = ⌊(W₁ − F)/S⌋ + 1 = ⌊(${p.in} − ${p.k})/${p.stride}⌋ + 1 = ${out}.`];
    if (p.quantity === 'discarded') s.push(`${out}² of ${p.in}² values remain: 100·(1 − ${out * out}/${p.in * p.in}) = ${num(100 * (1 - (out * out) / (p.in * p.in)))} % discarded.`);
    return s;
  },
  mistakes(p) {
    if (p.quantity === 'parameters') {
      const c = convParams(p.k, p.cin, p.filters);
      return [
        { value: c + p.pk * p.pk * p.filters, label: 'counted weights for the pooling windows (pooling takes a fixed max: no parameters)' },
        { value: c + p.filters, label: 'gave the pooling a bias per channel (it has no parameters)' },
        { value: c - p.filters, label: 'forgot the conv biases' },
      ];
    }
    if (p.quantity === 'discarded') {
      const [out] = poolOutputChecked([p.in, p.in], p.k, p.stride);
      return [
        { value: 100 * (1 - 1 / p.k), label: 'divided the number of values by the window side (both sides shrink: by its square)' },
        { value: 100 * (1 - 1 / (p.k * p.k)), label: 'ignored the border rows and columns no window covers' },
        { value: (100 * out * out) / (p.in * p.in), label: 'gave the share that remains, not the share discarded' },
      ];
    }
    const m: WrongAnswer[] = [{ value: Math.floor(p.in / p.k), label: 'divided by the window, ignoring the stride (windows overlap when the stride is smaller)' }];
    if ((p.in - p.k) % p.stride) m.push({ value: (p.in - p.k) / p.stride + 1, label: 'did not round down (the formula takes the floor)' });
    return m;
  },
  hint: (p) => (p.quantity === 'parameters' ? 'count the conv layer’s weights and biases; ask what a max pooling could learn' : p.quantity === 'discarded' ? 'count the values before (W₁²) and after (W₂²) pooling' : 'W₂ = ⌊(W₁ − F)/S⌋ + 1'),
  expects: (p) => (p.quantity === 'discarded' ? { percent: true } : {}),
  vary(rng, p) {
    if (p.quantity === 'parameters') return { ...p, in: rng.int(16, 64), cin: rng.pick([1, 3, 16, 32, 64]), k: rng.pick([3, 5, 7, 11]), filters: rng.int(4, 128), stride: rng.int(1, 4), pk: rng.pick([2, 3]), ps: 2 };
    if (p.quantity === 'discarded') {
      const k = rng.pick([2, 3, 4]);
      return { ...p, k, stride: k, in: rng.int(8, 64) };
    }
    const k = rng.pick([2, 3, 4, 5]);
    return { ...p, in: rng.int(12, 100), k, stride: rng.int(1, k - 1) };
  },
  keeps: (v, base) => (base.quantity !== 'size' || v.stride < v.k === base.stride < base.k ? true : 'the variant changes whether the windows overlap'),
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
    return [`Each stride-1 ${p.k}×${p.k} layer adds k − 1 = ${p.k - 1}: 1 + ${p.layers}·${p.k - 1} = ${rf}.`, `Stack: ${p.layers}·${p.k}² = ${p.layers * p.k * p.k} (times C²); one ${rf}×${rf} conv: ${rf}² = ${rf * rf} (times C²).`];
  },
  mistakes: (p) => (p.quantity === 'receptiveField' ? [{ value: p.layers * p.k, label: 'added the kernel sizes (each layer adds k − 1, not k)' }] : p.quantity === 'weightsStack' ? [{ value: p.k * p.k, label: 'counted one layer only' }] : []),
  hint: () => 'each stride-1 K×K layer adds K − 1 to the receptive field; a K×K conv from C to C channels has K²C² weights',
  vary: (rng, p) => ({ ...p, layers: rng.int(2, 6), k: rng.pick([3, 5, 7]) }),
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
      const r0 = r;
      r += (l.k - 1) * j;
      s.push(`${l.type ?? 'conv'} ${l.k}×${l.k}/${l.s ?? 1}: r = ${r0} + (${l.k} − 1)·${j} = ${r}${(l.s ?? 1) > 1 ? `, j = ${j}·${l.s} = ${j * l.s}` : ''}.`);
      j *= l.s ?? 1;
    }
    return s;
  },
  mistakes: (p) => [{ value: 1 + sum(p.layers.map((l: P) => l.k - 1)), label: 'ignored the strides (a strided layer multiplies the growth of the later layers)' }],
  hint: () => 'r ← r + (k − 1)·j, then j ← j·s, layer by layer from r = j = 1',
  vary: (rng) => ({ layers: Array.from({ length: rng.int(3, 5) }, () => ({ type: rng.pick(['conv', 'conv', 'pool']), k: rng.pick([2, 3, 5]), s: rng.int(1, 2) })) }),
};

const fcAsConvKind: Kind = {
  name: 'fcAsConv',
  exact: true,
  question: (p) =>
    p.quantity === 'weights'
      ? `A fully connected layer with ${p.units} units on a ${p.h}×${p.w}×${p.c} input: how many weights (no biases)?`
      : `A fully connected layer with ${p.units} units on a ${p.h}×${p.w}×${p.c} input equals a conv layer with ${p.units} filters of ${p.h}×${p.w}. What is that conv's output volume?`,
  answer: (p) => (p.quantity === 'weights' ? convParams([p.h, p.w], p.c, p.units, false) : [...convOutputChecked([p.h, p.w], { k: [p.h, p.w], cin: p.c, filters: p.units }), p.units]),
  steps: (p) => [`A ${p.h}×${p.w} filter over a ${p.h}×${p.w} input fits once: output 1×1×${p.units}.`, `Weights: ${p.h}·${p.w}·${p.c}·${p.units} = ${p.h * p.w * p.c * p.units}.`],
  mistakes: (p) => (p.quantity === 'weights' ? [{ value: p.h * p.w * p.c, label: 'counted the weights of one unit only' }] : [{ value: [p.h, p.w, p.units], label: 'kept the input’s height and width (the filter covers the whole input)' }]),
  hint: (p) => (p.quantity === 'weights' ? 'every unit sees every input value' : 'a filter as large as its input fits in one position'),
  vary: (rng, p) => ({ ...p, h: rng.int(2, 9), w: rng.int(2, 9), c: rng.pick([64, 128, 256, 512]), units: 64 * rng.int(1, 64) }),
};

const volumeKind: Kind = {
  name: 'volume',
  exact: true,
  question: (p) => `A ${p.h}×${p.w}×${p.c} input goes through ${p.filters} filters of 1×1 (stride 1). What is the output volume?`,
  answer: (p) => [...convOutputChecked([p.h, p.w], { k: 1, cin: p.c, filters: p.filters }), p.filters],
  steps: (p) => [`A 1×1 filter keeps the size; each output value is a ${p.c}-dimensional dot product; ${p.filters} filters give ${p.filters} channels.`],
  mistakes: (p) => [{ value: [p.h, p.w, p.c], label: 'kept the input depth (the output depth is the number of filters)' }],
  hint: () => 'a 1×1 filter keeps the height and width; the depth is the number of filters',
  vary: (rng, p) => ({ ...p, h: rng.int(7, 64), w: rng.int(7, 64), c: rng.pick([32, 64, 128, 256]), filters: rng.pick([16, 32, 48, 64]) }),
};

const models = new Map<string, Model>();

/** A bundled model (exercises/models/NAME.json) with the variant's input and layer widths. */
export function modelOf(p: P): Model {
  if (!models.has(p.model)) models.set(p.model, parseModel(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'exercises', 'models', `${p.model}.json`), 'utf8'))));
  const m = models.get(p.model)!;
  const widths: Record<string, number> = p.widths ?? {};
  const names = layerNames(m);
  const layers = m.layers.map((l, i) => (widths[names[i]] !== undefined ? ({ ...l, ...(l.type === 'fc' ? { units: widths[names[i]] } : { filters: widths[names[i]] }) } as Layer) : l));
  const input: [number, number, number] = p.input ? (Array.isArray(p.input) ? [p.input[0], p.input[1], p.input[2]] : [p.input, p.input, m.input[2]]) : m.input;
  return { ...m, input, layers };
}

/** The widths (filters or units) of the conv and fc layers by name, for the description's {{w.NAME}}. */
function widthsOf(m: Model): Record<string, number> {
  const names = layerNames(m);
  const w: Record<string, number> = {};
  m.layers.forEach((l, i) => {
    if (l.type === 'conv') w[names[i]] = l.filters;
    if (l.type === 'fc') w[names[i]] = l.units;
  });
  return w;
}

const MODEL_QUESTIONS: Record<string, string> = {
  weights: 'How many weights does it have, biases not counted?',
  parameters: 'How many parameters does it have, biases included?',
  activations: 'How many activation values does one forward pass store (the input and every layer output; ReLUs in place)?',
  activationMB: 'How many megabytes (10⁶ bytes) do those activations take at 4 bytes each, forward pass only?',
  fc1Weights: 'How many weights does its first fully connected layer have?',
  macs: 'How many multiply-accumulate operations do its convolutions take (one per weight per output position)?',
  outputShape: 'What is the output volume (H×W×C) of the module?',
  outputValues: 'How many values does the module output?',
};

const modelKind: Kind = {
  name: 'modelTotals',
  exact: true,
  question(p) {
    const m = modelOf(p);
    const desc = m.description ? ` (${Mustache.render(m.description, { w: widthsOf(m), input: m.input }, {}, { escape: (s: string) => s })})` : '';
    return `${m.name}${desc} on a ${dims(m.input)} input. ${MODEL_QUESTIONS[p.quantity]}`;
  },
  answer(p) {
    const s = summarize(modelOf(p));
    const last = s.rows.at(-1)!;
    const q: Record<string, () => Answer> = {
      weights: () => s.total.weights,
      parameters: () => s.total.weights + s.total.biases,
      activations: () => s.total.activations,
      activationMB: () => s.total.bytes / 1e6,
      fc1Weights: () => s.rows.find((r) => r.name === 'fc1')!.weights,
      macs: () => s.total.macs,
      outputShape: () => last.shape,
      outputValues: () => last.shape.reduce((a, b) => a * b, 1),
    };
    return q[p.quantity]();
  },
  steps(p) {
    const s = summarize(modelOf(p));
    const rows = s.rows.filter((r) => r.activations || r.weights || r.macs);
    const shown = p.quantity === 'macs' ? rows.filter((r) => r.macs) : rows;
    const lines = shown.map((r) => (p.quantity === 'macs' && r.macsTerms ? `${r.name}: ${r.macsTerms.join('·')} = ${r.macs} MACs` : `${r.name}: ${r.shape.join('×')}, ${r.activations} values, ${r.weights} weights + ${r.biases} biases`));
    const totals: Record<string, string> = {
      weights: `Weights: ${sum(rows.map((r) => r.weights))} in all.`,
      parameters: `Weights ${s.total.weights} + biases ${s.total.biases} = ${s.total.weights + s.total.biases}.`,
      activations: `Values: ${s.total.activations} in all.`,
      activationMB: `${s.total.activations} values · 4 bytes = ${s.total.bytes} bytes = ${num(s.total.bytes / 1e6)} MB (${num(s.total.bytes / 2 ** 20)} MiB).`,
      fc1Weights: 'FC1 connects every value of its input to each of its units.',
      macs: `In all (pooling has none): ${rows.filter((r) => r.macs).map((r) => r.macs).join(' + ')} = ${s.total.macs}.`,
      outputShape: 'Concatenation stacks the branches’ channels; each branch keeps the height and width.',
      outputValues: `Output ${s.rows.at(-1)!.shape.join('·')} values.`,
    };
    return [...lines, totals[p.quantity]];
  },
  mistakes(p) {
    const m = modelOf(p);
    const s = summarize(m);
    const out: WrongAnswer[] = [];
    if (p.quantity === 'activations') out.push({ value: s.total.activations - s.rows[0].activations, label: 'left out the input' });
    if (p.quantity === 'activationMB') out.push({ value: s.total.bytes / 2 ** 20, label: 'gave MiB (2²⁰ bytes); the question asks for MB (10⁶ bytes)' }, { value: (s.total.bytes - s.rows[0].bytes) / 1e6, label: 'left out the input' });
    if (p.quantity === 'parameters') out.push({ value: s.total.weights, label: 'forgot the biases' });
    if (p.quantity === 'weights') out.push({ value: s.total.weights + s.total.biases, label: 'counted the biases too' });
    if (p.quantity === 'parameters' && m.layers.some((l) => l.type === 'conv' && (l.groups ?? 1) > 1)) {
      const ungrouped = summarize({ ...m, layers: m.layers.map((l) => (l.type === 'conv' ? { ...l, groups: 1 } : l)) }).total;
      out.push({ value: ungrouped.weights + ungrouped.biases, label: 'counted the grouped convs as ungrouped (each filter of a 2-group conv sees half the channels)' });
    }
    if (p.quantity === 'parameters' && m.name === 'AlexNet') {
      const grouped = summarize(modelOf({ ...p, model: 'alexnet-grouped' })).total;
      out.push({ value: grouped.weights + grouped.biases, label: 'counted the original two-GPU AlexNet, whose conv2, conv4 and conv5 are grouped (this one is not)' });
    }
    if (p.quantity === 'outputShape') out.push({ value: [...s.rows.at(-1)!.shape.slice(0, 2), m.input[2]], label: 'kept the input depth (concatenation adds up the branches’ channels)' });
    return out;
  },
  hint: (p) =>
    ({
      activationMB: 'add up the values of every layer output and the input; 4 bytes each; 1 MB = 10⁶ bytes',
      macs: 'a conv makes H_out·W_out·K·(F·F·C_in) multiply-accumulates',
      outputShape: 'concatenation keeps H and W and adds the channels',
      outputValues: 'H·W·C of the concatenated output',
    })[p.quantity as string] ?? 'go layer by layer (`cnn-oracle summary` prints the table for the notes’ numbers)',
  expects: (p) => (p.quantity === 'activationMB' ? { unit: 'MB' } : {}),
  vary(rng, p) {
    const m = modelOf({ model: p.model });
    const [H, , C] = m.input;
    const side = rng.int(Math.round(H * 0.6), Math.round(H * 1.4));
    // an image keeps its 3 colour channels; a module's input depth is one of its design choices
    const depth = C === 3 ? 3 : rng.pick([128, 192, 256, 480, 512]);
    const named = layerNames(m);
    const classes = named.filter((_, i) => m.layers[i].type === 'fc').at(-1);
    const widths: Record<string, number> = {};
    m.layers.forEach((l, i) => {
      if (l.type === 'fc') widths[named[i]] = named[i] === classes ? rng.pick([10, 100, 1000]) : rng.pick([l.units, l.units / 2, l.units / 4]);
    });
    // the conv widths a question varies (p.vary), drawn in that order so a group's models agree
    for (const name of p.vary ?? []) widths[name] = 16 * rng.int(2, 16);
    return { ...p, input: [side, side, depth], widths };
  },
};

const detectorKind: Kind = {
  name: 'detectorSizes',
  exact: true,
  question(p) {
    if (p.detector === 'yolo') return `A YOLO-style detector divides the image into ${p.S}×${p.S} cells, each predicting ${p.B} boxes (x, y, w, h, confidence) and ${p.C} class scores. What is the output volume?`;
    return `A region proposal network runs on a ${p.C}×${p.H}×${p.W} feature map with ${p.K} anchors per cell. What is the shape of its ${p.quantity === 'objectness' ? 'objectness scores (one per anchor)' : 'box corrections (four per anchor)'}, as channels×H×W?`;
  },
  answer: (p) => (p.detector === 'yolo' ? [p.S, p.S, 5 * p.B + p.C] : [p.quantity === 'objectness' ? p.K : 4 * p.K, p.H, p.W]),
  steps: (p) => (p.detector === 'yolo' ? [`Each cell: ${p.B}·5 box numbers + ${p.C} class scores = ${5 * p.B + p.C}.`] : [`One ${p.quantity === 'objectness' ? 'score' : 'set of 4 corrections'} per anchor per cell: ${p.quantity === 'objectness' ? p.K : `4·${p.K} = ${4 * p.K}`} channels on the ${p.H}×${p.W} grid.`]),
  mistakes: (p) =>
    p.detector === 'yolo'
      ? [
          { value: [p.S, p.S, 5 + p.C], label: 'counted one box per cell' },
          { value: [p.S, p.S, 4 * p.B + p.C], label: 'forgot the confidence of each box' },
        ]
      : [{ value: [p.quantity === 'objectness' ? 1 : 4, p.H, p.W], label: 'forgot the K anchors per cell' }],
  hint: (p) => (p.detector === 'yolo' ? 'each cell predicts B boxes of 5 numbers and C class scores' : 'one prediction per anchor per cell of the feature map'),
  vary: (rng, p) => (p.detector === 'yolo' ? { ...p, S: rng.int(5, 13), B: rng.int(2, 3), C: rng.pick([20, 80]) } : { ...p, H: rng.int(10, 40), W: rng.int(10, 40), K: rng.pick([3, 9, 15]) }),
};

export const SHAPE_KINDS: Kind[] = [convOutputKind, convLayerKind, transposedOutputKind, samePaddingKind, poolKind, stackKind, rfKind, fcAsConvKind, volumeKind, modelKind, detectorKind];
