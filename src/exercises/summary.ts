/**
 * `cnn-oracle summary MODEL.json`: a per-layer table for a sequential model — output shape,
 * activations (values and bytes), parameters (without and with biases), MACs, receptive field.
 * Activation layers (relu, sigmoid, tanh), dropout and flatten work in place and add no activation
 * memory; the input counts as a layer, as in the course's VGG-16 table.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OracleError } from '../errors.js';
import { convOutput, poolOutput } from './sizes.js';

export type Layer =
  | { type: 'conv'; filters: number; kernel: number; stride?: number; padding?: number; bias?: boolean; name?: string }
  | { type: 'maxpool' | 'avgpool'; kernel: number; stride?: number; padding?: number; name?: string }
  | { type: 'fc'; units: number; bias?: boolean; name?: string }
  | { type: 'bn'; name?: string }
  | { type: 'relu' | 'sigmoid' | 'tanh' | 'dropout' | 'flatten' | 'softmax'; name?: string };

export interface Model {
  name: string;
  /** [H, W, C] */
  input: [number, number, number];
  layers: Layer[];
}

export interface Row {
  name: string;
  shape: number[];
  activations: number;
  bytes: number;
  weights: number;
  biases: number;
  macs: number;
  receptiveField: number;
}

const int = { type: 'integer', minimum: 1 };
export const modelSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Sequential model',
  type: 'object',
  required: ['name', 'input', 'layers'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    input: { type: 'array', items: int, minItems: 3, maxItems: 3, description: '[H, W, C]' },
    layers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { enum: ['conv', 'maxpool', 'avgpool', 'fc', 'bn', 'relu', 'sigmoid', 'tanh', 'dropout', 'flatten', 'softmax'] },
          name: { type: 'string' },
          filters: int,
          kernel: int,
          stride: int,
          padding: { type: 'integer', minimum: 0 },
          units: int,
          bias: { type: 'boolean' },
        },
        additionalProperties: false,
        allOf: [
          { if: { properties: { type: { const: 'conv' } } }, then: { required: ['filters', 'kernel'] } },
          { if: { properties: { type: { enum: ['maxpool', 'avgpool'] } } }, then: { required: ['kernel'] } },
          { if: { properties: { type: { const: 'fc' } } }, then: { required: ['units'] } },
        ],
      },
    },
  },
} as const;

const validate = new Ajv2020({ strict: false }).compile(modelSchema);

export function parseModel(raw: unknown): Model {
  if (!validate(raw)) {
    const e = validate.errors![0];
    throw new OracleError('INVALID_CASE', `model ${e.instancePath || '(top level)'}: ${e.message}`, e.instancePath);
  }
  return raw as Model;
}

export function summarize(m: Model): { rows: Row[]; total: Omit<Row, 'name' | 'shape' | 'receptiveField'> } {
  let [H, W, C] = m.input;
  let flat: number | undefined; // set once flattened / fully connected
  let rf = 1;
  let jump = 1;
  const rows: Row[] = [{ name: 'input', shape: [H, W, C], activations: H * W * C, bytes: 4 * H * W * C, weights: 0, biases: 0, macs: 0, receptiveField: 1 }];
  const counts: Record<string, number> = {};
  m.layers.forEach((l, i) => {
    counts[l.type] = (counts[l.type] ?? 0) + 1;
    const name = l.name ?? `${l.type}${counts[l.type]}`;
    let weights = 0;
    let biases = 0;
    let macs = 0;
    let inPlace = false;
    const at = `/layers/${i}`;
    switch (l.type) {
      case 'conv': {
        if (flat !== undefined) throw new OracleError('INVALID_CASE', `model ${at}: a conv layer after flatten/fc`, at);
        const s = l.stride ?? 1;
        const p = l.padding ?? 0;
        const Ho = convOutput(H, l.kernel, s, p);
        const Wo = convOutput(W, l.kernel, s, p);
        if (Ho < 1 || Wo < 1) throw new OracleError('INVALID_CASE', `model ${at}: the ${l.kernel}×${l.kernel} kernel does not fit the ${H}×${W} input`, at);
        weights = l.kernel * l.kernel * C * l.filters;
        biases = l.bias === false ? 0 : l.filters;
        macs = Ho * Wo * weights;
        rf += (l.kernel - 1) * jump;
        jump *= s;
        [H, W, C] = [Ho, Wo, l.filters];
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const s = l.stride ?? l.kernel;
        const p = l.padding ?? 0;
        const Ho = poolOutput(H, l.kernel, s, p);
        const Wo = poolOutput(W, l.kernel, s, p);
        rf += (l.kernel - 1) * jump;
        jump *= s;
        [H, W] = [Ho, Wo];
        break;
      }
      case 'fc': {
        const inF = flat ?? H * W * C;
        weights = inF * l.units;
        biases = l.bias === false ? 0 : l.units;
        macs = weights;
        flat = l.units;
        rf = NaN;
        break;
      }
      case 'bn':
        biases = flat ?? C; // β
        weights = flat ?? C; // γ
        macs = flat ?? H * W * C;
        break;
      case 'flatten':
        flat = flat ?? H * W * C;
        inPlace = true;
        break;
      default:
        inPlace = true;
    }
    const shape = flat !== undefined ? [flat] : [H, W, C];
    const acts = shape.reduce((a, b) => a * b, 1);
    rows.push({ name, shape, activations: inPlace ? 0 : acts, bytes: inPlace ? 0 : 4 * acts, weights, biases, macs, receptiveField: rf });
  });
  const sum = (k: 'activations' | 'bytes' | 'weights' | 'biases' | 'macs') => rows.reduce((s, r) => s + r[k], 0);
  return { rows, total: { activations: sum('activations'), bytes: sum('bytes'), weights: sum('weights'), biases: sum('biases'), macs: sum('macs') } };
}

const n = (x: number) => (Number.isNaN(x) ? '—' : x.toLocaleString('en-US'));

export function summaryTable(m: Model): string {
  const { rows, total } = summarize(m);
  const head = ['layer', 'output', 'activations', 'memory', 'weights', 'biases', 'MACs', 'RF'];
  const body = rows.map((r) => [r.name, r.shape.join('×'), n(r.activations), mib(r.bytes), n(r.weights), n(r.biases), n(r.macs), Number.isNaN(r.receptiveField) ? 'all' : `${r.receptiveField}×${r.receptiveField}`]);
  const foot = ['total', '', n(total.activations), mib(total.bytes), n(total.weights), n(total.biases), n(total.macs), ''];
  const all = [head, ...body, foot];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ');
  return [
    `${m.name}: input ${m.input.join('×')}`,
    line(head),
    w.map((x) => '-'.repeat(x)).join('  '),
    ...body.map(line),
    w.map((x) => '-'.repeat(x)).join('  '),
    line(foot),
    `parameters: ${n(total.weights)} weights, ${n(total.weights + total.biases)} with biases; activations: ${n(total.activations)} values (${mib(total.bytes)} at 4 bytes, forward only)`,
  ].join('\n') + '\n';
}

function mib(bytes: number): string {
  if (bytes === 0) return '0';
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
