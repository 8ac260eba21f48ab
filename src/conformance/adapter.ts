/**
 * Conformance targets: an adapter maps catalogue ops onto another library's calls (layouts such
 * as NHWC, parameter conventions) and says which ops and params it supports. Inputs and outputs
 * are the registry's (float64 ndarrays, NCHW); `unsupported` returns a reason or undefined.
 */
import type { Inputs, OpDef, Outputs, Params } from '../registry.js';

export interface OpAdapter {
  unsupported?(inputs: Inputs, params: Params): string | undefined;
  run(inputs: Inputs, params: Params): Outputs | Promise<Outputs>;
}

/** An adapter typed by its op: `unsupported` and `run` receive the op's options (`op.opts` of the resolved params). */
export interface TypedOpAdapter<O> {
  unsupported?(inputs: Inputs, o: O): string | undefined;
  run(inputs: Inputs, o: O): Outputs | Promise<Outputs>;
}
export function adapterFor<O>(op: OpDef<O>, a: TypedOpAdapter<O>): OpAdapter {
  const { unsupported } = a;
  return {
    ...(unsupported ? { unsupported: (inputs: Inputs, params: Params) => unsupported.call(a, inputs, op.opts(params)) } : {}),
    run: (inputs, params) => a.run(inputs, op.opts(params)),
  };
}

export interface TargetAdapter {
  name: string;
  description: string;
  /** The precision the library computes in; sets the error bound it is held to. */
  precision: 'float32' | 'float64';
  ops: Record<string, OpAdapter>;
  init?(): Promise<void>;
  dispose?(): Promise<void>;
}

/**
 * Thrown by an adapter's `run` for a case the target does not compute, when it can only tell by
 * trying (a program target answering `errorKind: "unsupported"`): the case counts as unsupported,
 * with the message as the reason, not as a failure.
 */
export class Unsupported extends Error {}
