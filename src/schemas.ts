/** JSON Schemas (draft 2020-12) of the wire format in shared/spec/cases.md, compiled with ajv. */
import type { ErrorObject } from 'ajv';
import { OracleError } from './errors.js';
import { ajv, compileLazily, schemaError } from './json-schema.js';
import { allOps, paramsSchema } from './registry.js';
import './ops/index.js'; // the case schema names every op, and each op's params schema is its own
import { DTYPES } from './tensor.js';

export const tensorSchema = {
  $id: 'https://cnn-oracle.dev/schemas/tensor.json',
  title: 'Tensor',
  type: 'object',
  required: ['shape', 'data'],
  additionalProperties: false,
  properties: {
    shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
    dtype: { enum: [...DTYPES], default: 'float64' },
    data: {
      type: 'array',
      items: { anyOf: [{ type: 'number' }, { enum: ['NaN', 'Infinity', '-Infinity', '-0'] }, { type: 'boolean' }] },
    },
  },
} as const;

const tensorMap = { type: 'object', additionalProperties: { $ref: 'tensor.json' } };

export const toleranceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rtol: { type: 'number', minimum: 0 },
    atol: { type: 'number', minimum: 0 },
    ulp: { type: 'number', minimum: 0, description: 'units in the last place of the expected value, at float64' },
  },
};

export const caseSchema = {
  $id: 'https://cnn-oracle.dev/schemas/case.json',
  title: 'Case',
  type: 'object',
  required: ['op'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    op: { type: 'string' },
    inputs: tensorMap,
    params: { type: 'object' },
    expected: tensorMap,
    tolerance: toleranceSchema,
    tags: { type: 'array', items: { type: 'string' } },
    note: { type: 'string' },
  },
} as const;

/** One line of `eval` output. */
export const evalResultSchema = {
  $id: 'https://cnn-oracle.dev/schemas/eval-result.json',
  title: 'EvalResult',
  type: 'object',
  required: ['id', 'op'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    op: { type: 'string' },
    outputs: tensorMap,
    error: {
      type: 'object',
      required: ['code', 'message', 'path'],
      additionalProperties: false,
      properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
    },
  },
  oneOf: [{ required: ['outputs'] }, { required: ['error'] }],
} as const;

ajv.addSchema(tensorSchema);
const validateCaseFn = compileLazily(caseSchema);
export const validateEvalResult = compileLazily(evalResultSchema);

function describe(e: ErrorObject): { path: string; message: string } {
  const path = e.instancePath;
  const where = path || 'the case';
  switch (e.keyword) {
    case 'anyOf':
      if (/\/data\/\d+$/.test(path)) return { path, message: `${where} must be a number or one of "NaN", "Infinity", "-Infinity", "-0"` };
      return { path, message: `${where} is invalid` };
    default: {
      const r = schemaError(e);
      return { path: r.path, message: r.message.replace(/^the top level/, 'the case') };
    }
  }
}

/** Validates the structure of one case; tensors are checked in detail when decoded. */
export function validateCase(value: unknown): void {
  if (!validateCaseFn(value)) {
    const { path, message } = describe(validateCaseFn.errors![0]);
    throw new OracleError('INVALID_CASE', message, path);
  }
}

/** Every schema the project publishes, for `cnn-oracle schema`. */
export function schemaByName(name: string): object {
  if (name === 'tensor') return tensorSchema;
  if (name === 'case') return caseSchema;
  if (name === 'eval-result') return evalResultSchema;
  const op = allOps().find((o) => o.name === name);
  if (op) return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: `${op.name} params`, ...paramsSchema(op) };
  throw new OracleError('UNKNOWN_OP', `no schema named ${JSON.stringify(name)} (tensor, case, eval-result, or an op name)`);
}
