/**
 * The project's one Ajv instance (JSON Schema draft 2020-12) and its one error translator: case
 * files, op params, assignments, model summaries and the exercise bank are all validated here, and
 * every schema error becomes the same kind of message, naming the JSON pointer of the field.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';

export const ajv = new Ajv2020({ allErrors: false, useDefaults: false, strict: false });

export type { ValidateFunction };

/** A validator of a schema, compiled when first called (compiling costs at start-up: `--version` needn't pay). */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export function compile(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

export function compileLazily(schema: object): Validator {
  let v: ValidateFunction | undefined;
  const f: Validator = (data) => {
    v ??= ajv.compile(schema);
    const ok = v(data);
    f.errors = v.errors;
    return ok;
  };
  return f;
}

/**
 * One schema error as a path and a sentence. `required` and `additionalProperties` point at the
 * missing or unknown field itself; `describe` may name what a field must be (a param's title).
 */
export function schemaError(e: ErrorObject, base = '', describe?: (field: string) => string | undefined): { path: string; message: string } {
  const path = base + e.instancePath;
  const where = path || 'the top level';
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path: `${path}/${missing}`, message: `${where} is missing the field ${missing}` };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { path: `${path}/${extra}`, message: `${where} has an unknown field ${JSON.stringify(extra)}` };
    }
    case 'enum':
      return { path, message: `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { path, message: `${where} must be of type ${(e.params as { type: string }).type}` };
    default: {
      const field = e.instancePath.split('/')[1];
      const expected = field !== undefined ? describe?.(field) : undefined;
      return { path, message: expected ? `${where} must be ${expected}` : `${where} ${e.message ?? 'is invalid'}` };
    }
  }
}
