/**
 * The grading line protocol (shared/spec/grading.md): one JSON request a line on the submission's
 * standard input, one JSON answer a line on its standard output.
 *
 *   → {"id": "...", "op": "conv2d", "inputs": {...tensors...}, "params": {...}}
 *   ← {"id": "...", "outputs": {"y": <tensor>}}   or   {"id": "...", "error": "..."}
 *
 * cnn-oracle's own JS runner adds `outputNames` to requests and may answer with `errorKind`
 * ("missing", "threw", "bad-return", "load") and `mutatedInputs`; other programs ignore and omit them.
 */
import type { TensorJSON } from '../tensor.js';

export interface Request {
  id: string;
  op: string;
  inputs: Record<string, TensorJSON>;
  params: Record<string, unknown>;
  outputNames?: string[];
}

export interface Response {
  id: string;
  outputs?: Record<string, TensorJSON>;
  error?: string;
  errorKind?: 'missing' | 'threw' | 'bad-return' | 'load';
  mutatedInputs?: string[];
}
