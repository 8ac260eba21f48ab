/**
 * The grading line protocol (shared/spec/grading.md): one JSON request a line on the submission's
 * standard input, one JSON answer a line on its standard output.
 *
 *   → {"id": "...", "op": "conv2d", "inputs": {...tensors...}, "params": {...}}
 *   ← {"id": "...", "outputs": {"y": <tensor>}}   or   {"id": "...", "error": "..."}
 *
 * cnn-oracle's extensions (a program that knows none of them still works):
 * - **Hello.** The first request is `{"id": "cnn-oracle:hello", "op": "hello", "inputs": {},
 *   "params": {"protocol": 1, "encodings": ["json", "base64"]}}`. Any answer with that id, an
 *   error ("unknown op") included, says the program has started; the time until then is the
 *   start-up budget, not a case's time limit. An answer may carry `"protocol": {"encodings":
 *   ["base64"]}` to receive tensors in the binary form of wire.ts.
 * - **Binary tensors.** A tensor may be `{"shape", "dtype", "base64"}` instead of `{..., "data"}`,
 *   in requests (once the program asked for it) and in answers (always accepted).
 * - `outputNames` in requests: the outputs the grader expects, in order.
 * - `errorKind: "unsupported"` in an answer: the program does not compute this case (the reason is
 *   the `error`); `conformance --command` counts it as unsupported, as it does `"missing"` (no
 *   function for the op). The Python helper answers so for `raise Unsupported(...)` and for ops it
 *   has no function for. `target` in the answer to the hello request: a description of the program
 *   (a library and its version), shown by `conformance --command`.
 * - In answers from cnn-oracle's own JS runner: `errorKind` ("missing", "threw", "bad-return",
 *   "load") and `inputsAfter` (the bytes of each input after the call, for the grader to check
 *   that the submission left them unchanged).
 * Request ids other than the hello's are unpredictable, so nothing printed in advance can pass
 * for an answer.
 */
import type { WireTensor } from './wire.js';

export const HELLO_ID = 'cnn-oracle:hello';

export interface Request {
  id: string;
  op: string;
  inputs: Record<string, WireTensor>;
  params: Record<string, unknown>;
  outputNames?: string[];
}

export interface Response {
  id: string;
  outputs?: Record<string, WireTensor>;
  error?: string;
  errorKind?: 'missing' | 'threw' | 'bad-return' | 'load' | 'unsupported';
  inputsAfter?: Record<string, string>;
  protocol?: { encodings?: string[] };
  /** In the answer to the hello request: what the program is (shown by conformance --command). */
  target?: string;
}
