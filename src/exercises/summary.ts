/**
 * `cnn-oracle summary MODEL.json`: a per-layer table of a model — output shape, activations
 * (values and bytes), parameters (without and with biases), MACs, receptive field.
 *
 * A model is a list of layers, each reading the previous layer's output unless it names its
 * inputs (`"input": "conv1"`, or a list for `add` and `concat`), so residual blocks (ResNet),
 * parallel branches (Inception), grouped and dilated convs and global pooling can be described.
 * Activation layers, dropout and flatten work in place and add no activation memory; the input
 * counts as a layer, as in the course's VGG-16 table. Every conv and pool goes through the
 * reference's own shape check, so a layer PyTorch would reject is an error here too.
 */
import { compileLazily, schemaError } from '../json-schema.js';
import { OracleError } from '../errors.js';
import { convOutputChecked, poolOutputChecked } from './sizes.js';

interface Common {
  name?: string;
  /** The layers this one reads ("input" for the model's input); default the previous layer. */
  input?: string | string[];
}

export type Layer = Common &
  (
    | { type: 'conv'; filters: number; kernel: number; stride?: number; padding?: number; dilation?: number; groups?: number; bias?: boolean }
    | { type: 'maxpool' | 'avgpool'; kernel: number; stride?: number; padding?: number }
    | { type: 'globalavgpool' | 'globalmaxpool' }
    | { type: 'fc'; units: number; bias?: boolean }
    | { type: 'bn' }
    | { type: 'add' | 'concat' }
    | { type: 'relu' | 'sigmoid' | 'tanh' | 'dropout' | 'flatten' | 'softmax' }
  );

export interface Model {
  name: string;
  /** A description for the exercises' questions, a Mustache template: {{w.NAME}} is a layer's width. */
  description?: string;
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
  /** How a conv's MACs come about: H_out·W_out·K·k·k·C_in/groups. */
  macsTerms?: number[];
  receptiveField: number;
}

export const LAYER_TYPES = ['conv', 'maxpool', 'avgpool', 'globalavgpool', 'globalmaxpool', 'fc', 'bn', 'add', 'concat', 'relu', 'sigmoid', 'tanh', 'dropout', 'flatten', 'softmax'] as const;

const int = { type: 'integer', minimum: 1 };
const names = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };
export const modelSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Model',
  type: 'object',
  required: ['name', 'input', 'layers'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    input: { type: 'array', items: int, minItems: 3, maxItems: 3, description: '[H, W, C]' },
    layers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { enum: LAYER_TYPES },
          name: { type: 'string' },
          input: names,
          filters: int,
          kernel: int,
          stride: int,
          padding: { type: 'integer', minimum: 0 },
          dilation: int,
          groups: int,
          units: int,
          bias: { type: 'boolean' },
        },
        additionalProperties: false,
        allOf: [
          { if: { properties: { type: { const: 'conv' } } }, then: { required: ['filters', 'kernel'] } },
          { if: { properties: { type: { enum: ['maxpool', 'avgpool'] } } }, then: { required: ['kernel'] } },
          { if: { properties: { type: { const: 'fc' } } }, then: { required: ['units'] } },
          { if: { properties: { type: { enum: ['add', 'concat'] } } }, then: { required: ['input'], properties: { input: { type: 'array', minItems: 2 } } } },
        ],
      },
    },
  },
} as const;

const validate = compileLazily(modelSchema);

const fail = (at: string, message: string): never => {
  throw new OracleError('INVALID_CASE', `model ${at}: ${message}`, at);
};

export function parseModel(raw: unknown): Model {
  // an unknown layer type is named, rather than reported as "must be equal to one of the allowed values"
  const layers = (raw as { layers?: unknown })?.layers;
  if (Array.isArray(layers))
    layers.forEach((l, i) => {
      const t = (l as { type?: unknown })?.type;
      if (t !== undefined && !(LAYER_TYPES as readonly unknown[]).includes(t)) fail(`/layers/${i}/type`, `unsupported layer type ${JSON.stringify(t)} (supported: ${LAYER_TYPES.join(', ')})`);
    });
  if (!validate(raw)) {
    const { path, message } = schemaError(validate.errors![0]);
    throw new OracleError('INVALID_CASE', `model ${message}`, path);
  }
  return raw as Model;
}

/** The name of every layer: its own, or its type and a count (conv1, conv2, fc1 …). */
export function layerNames(m: Model): string[] {
  const counts: Record<string, number> = {};
  return m.layers.map((l) => {
    counts[l.type] = (counts[l.type] ?? 0) + 1;
    return l.name ?? `${l.type}${counts[l.type]}`;
  });
}

/** A tensor flowing through the model: its shape ([H, W, C], or [n] once flat) and receptive field. */
interface Flow {
  shape: number[];
  rf: number;
  jump: number;
}

export function summarize(m: Model): { rows: Row[]; total: Omit<Row, 'name' | 'shape' | 'receptiveField' | 'macsTerms'> } {
  const [H0, W0, C0] = m.input;
  const rows: Row[] = [{ name: 'input', shape: [H0, W0, C0], activations: H0 * W0 * C0, bytes: 4 * H0 * W0 * C0, weights: 0, biases: 0, macs: 0, receptiveField: 1 }];
  const flows = new Map<string, Flow>([['input', { shape: [H0, W0, C0], rf: 1, jump: 1 }]]);
  const named = layerNames(m);
  let previous = 'input';
  m.layers.forEach((l, i) => {
    const at = `/layers/${i}`;
    const name = named[i];
    if (flows.has(name)) fail(`${at}/name`, `a second layer named ${JSON.stringify(name)}`);
    const sources = (l.input === undefined ? [previous] : Array.isArray(l.input) ? l.input : [l.input]).map((s, j) => {
      const f = flows.get(s);
      if (!f) fail(`${at}/input${Array.isArray(l.input) ? `/${j}` : ''}`, `no earlier layer named ${JSON.stringify(s)}`);
      return f!;
    });
    if (sources.length > 1 && l.type !== 'add' && l.type !== 'concat') fail(`${at}/input`, `a ${l.type} layer reads one input`);
    const x = sources[0];
    const spatial = () => {
      if (x.shape.length !== 3) fail(at, `a ${l.type} layer needs an H×W×C input, got the flat ${x.shape[0]} values of a flatten or fc layer`);
      return x.shape as [number, number, number];
    };
    const checked = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        return fail(at, `${l.type} on its ${x.shape.join('×')} input: ${(e as Error).message}`);
      }
    };
    let out: Flow = x;
    let weights = 0;
    let biases = 0;
    let macs = 0;
    let macsTerms: number[] | undefined;
    let inPlace = false;
    switch (l.type) {
      case 'conv': {
        const [H, W, C] = spatial();
        const g = { k: l.kernel, stride: l.stride ?? 1, pad: l.padding ?? 0, dilation: l.dilation ?? 1, groups: l.groups ?? 1, cin: C, filters: l.filters };
        const [Ho, Wo] = checked(() => convOutputChecked([H, W], g));
        weights = l.kernel * l.kernel * (C / g.groups) * l.filters;
        biases = l.bias === false ? 0 : l.filters;
        macs = Ho * Wo * weights;
        macsTerms = [Ho, Wo, l.filters, l.kernel, l.kernel, C / g.groups];
        out = { shape: [Ho, Wo, l.filters], rf: x.rf + g.dilation * (l.kernel - 1) * x.jump, jump: x.jump * g.stride };
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [H, W, C] = spatial();
        const s = l.stride ?? l.kernel;
        const [Ho, Wo] = checked(() => poolOutputChecked([H, W], l.kernel, s, l.padding ?? 0));
        out = { shape: [Ho, Wo, C], rf: x.rf + (l.kernel - 1) * x.jump, jump: x.jump * s };
        break;
      }
      case 'globalavgpool':
      case 'globalmaxpool': {
        const [H, W, C] = spatial();
        out = { shape: [1, 1, C], rf: x.rf + (Math.max(H, W) - 1) * x.jump, jump: x.jump * Math.max(H, W) };
        break;
      }
      case 'fc': {
        const inF = x.shape.reduce((a, b) => a * b, 1);
        weights = inF * l.units;
        biases = l.bias === false ? 0 : l.units;
        macs = weights;
        out = { shape: [l.units], rf: NaN, jump: NaN };
        break;
      }
      case 'bn': {
        const C = x.shape.at(-1)!;
        weights = C; // γ
        biases = C; // β (the running statistics are buffers, not parameters)
        macs = x.shape.reduce((a, b) => a * b, 1);
        break;
      }
      case 'add': {
        const bad = sources.findIndex((s) => s.shape.join('×') !== x.shape.join('×'));
        if (bad > 0) fail(`${at}/input/${bad}`, `add needs equal shapes, got ${x.shape.join('×')} and ${sources[bad].shape.join('×')}`);
        out = merged(x.shape, sources);
        break;
      }
      case 'concat': {
        const bad = sources.findIndex((s) => s.shape.length !== x.shape.length || s.shape.slice(0, -1).join('×') !== x.shape.slice(0, -1).join('×'));
        if (bad > 0) fail(`${at}/input/${bad}`, `concat needs the same shape but for the channels, got ${x.shape.join('×')} and ${sources[bad].shape.join('×')}`);
        out = merged([...x.shape.slice(0, -1), sources.reduce((a, s) => a + s.shape.at(-1)!, 0)], sources);
        break;
      }
      case 'flatten':
        out = { ...x, shape: [x.shape.reduce((a, b) => a * b, 1)] };
        inPlace = true;
        break;
      default:
        inPlace = true;
    }
    flows.set(name, out);
    previous = name;
    const acts = out.shape.reduce((a, b) => a * b, 1);
    rows.push({ name, shape: out.shape, activations: inPlace ? 0 : acts, bytes: inPlace ? 0 : 4 * acts, weights, biases, macs, ...(macsTerms ? { macsTerms } : {}), receptiveField: out.rf });
  });
  const total = (k: 'activations' | 'bytes' | 'weights' | 'biases' | 'macs') => rows.reduce((s, r) => s + r[k], 0);
  return { rows, total: { activations: total('activations'), bytes: total('bytes'), weights: total('weights'), biases: total('biases'), macs: total('macs') } };
}

/** A merge (add, concat) sees what its widest input sees. */
function merged(shape: number[], sources: Flow[]): Flow {
  return { shape, rf: Math.max(...sources.map((s) => s.rf)), jump: Math.max(...sources.map((s) => s.jump)) };
}

const n = (x: number) => (Number.isNaN(x) ? '—' : x.toLocaleString('en-US'));

export function summaryTable(m: Model): string {
  const { rows, total } = summarize(m);
  const head = ['layer', 'output', 'activations', 'memory', 'weights', 'biases', 'MACs', 'RF'];
  const body = rows.map((r) => [r.name, r.shape.join('×'), n(r.activations), mib(r.bytes), n(r.weights), n(r.biases), n(r.macs), Number.isNaN(r.receptiveField) ? 'all' : `${r.receptiveField}×${r.receptiveField}`]);
  const foot = ['total', '', n(total.activations), mib(total.bytes), n(total.weights), n(total.biases), n(total.macs), ''];
  const all = [head, ...body, foot];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ').trimEnd();
  return (
    [
      `${m.name}: input ${m.input.join('×')}`,
      line(head),
      w.map((x) => '-'.repeat(x)).join('  '),
      ...body.map(line),
      w.map((x) => '-'.repeat(x)).join('  '),
      line(foot),
      `parameters: ${n(total.weights)} weights, ${n(total.weights + total.biases)} with biases; activations: ${n(total.activations)} values (${mib(total.bytes)} at 4 bytes, forward only)`,
    ].join('\n') + '\n'
  );
}

function mib(bytes: number): string {
  if (bytes === 0) return '0';
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
