/**
 * Errors that reach a user. Every one carries a machine-readable code and the JSON pointer
 * (RFC 6901) of the field at fault, so `eval` can report `{code, message, path}` and the CLI can
 * print one line instead of a stack trace.
 */
export type ErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_CASE'
  | 'INVALID_TENSOR'
  | 'INVALID_INPUTS'
  | 'INVALID_PARAMS'
  | 'UNKNOWN_OP'
  | 'UNSUPPORTED'
  | 'TOO_LARGE'
  | 'INTERNAL';

export class OracleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly path = '',
  ) {
    super(message);
    this.name = 'OracleError';
  }

  /** The same error, relocated under a parent pointer (e.g. `/inputs/x` + `/shape/0`). */
  under(prefix: string): OracleError {
    return new OracleError(this.code, this.message, prefix + this.path);
  }

  toJSON(): { code: ErrorCode; message: string; path: string } {
    return { code: this.code, message: this.message, path: this.path };
  }
}

/** Escape one JSON-pointer token. */
export function ptr(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function invalidParams(path: string, message: string): OracleError {
  return new OracleError('INVALID_PARAMS', message, path);
}

export function invalidInputs(path: string, message: string): OracleError {
  return new OracleError('INVALID_INPUTS', message, path);
}
