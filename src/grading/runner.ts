/**
 * The child process that runs a JS/TS submission: it loads the module (TypeScript through tsx,
 * no build step) and answers the line protocol. It runs under Node's permission model, so the
 * submission can read only its own folder and write only to a scratch folder; it never sees the
 * expected outputs, and the grader scores only what comes back on this pipe.
 *
 * Usage: node runner.js SUBMISSION_FILE [ADAPTER_FILE]
 */
import { createInterface } from 'node:readline';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import ndarray from 'ndarray';
import type { Request, Response } from './protocol.js';
import { toOutputs } from './normalize.js';

// Keep the real pipe before the submission can touch anything; route console output to stderr.
const write = process.stdout.write.bind(process.stdout);
const JSONstringify = JSON.stringify;
const JSONparse = JSON.parse;
const toLog = (...a: unknown[]) => void process.stderr.write(format(...a) + '\n');
console.log = console.info = console.debug = console.warn = toLog;

const send = (r: Response) => void write(JSONstringify(r) + '\n');

const NONFINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

function decode(t: { shape: number[]; data: (number | string | boolean)[] }) {
  const d = new Float64Array(t.data.length);
  t.data.forEach((v, i) => (d[i] = typeof v === 'string' ? NONFINITE[v] : Number(v)));
  return ndarray(d, t.shape.slice());
}

type Fn = (...args: unknown[]) => unknown;
let mod: Record<string, unknown> | undefined;
let adapter: Record<string, unknown> | undefined;
let loadError: string | undefined;

async function load(): Promise<void> {
  const [file, adapterFile] = process.argv.slice(2);
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (adapterFile) adapter = (await import(pathToFileURL(adapterFile).href)) as Record<string, unknown>;
  } catch (e) {
    loadError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}

function lookup(op: string): Fn | undefined {
  if (adapter) {
    const a = (adapter[op] ?? (adapter.default as Record<string, unknown> | undefined)?.[op]) as Fn | undefined;
    if (!a) return undefined;
    return (inputs: unknown, params: unknown) => a(mod, inputs, params);
  }
  const f = mod?.[op] ?? (mod?.default as Record<string, unknown> | undefined)?.[op];
  return typeof f === 'function' ? (f as Fn) : undefined;
}

async function handle(line: string): Promise<void> {
  let req: Request;
  try {
    req = JSONparse(line) as Request;
  } catch {
    return;
  }
  const { id } = req;
  if (loadError) return send({ id, error: `could not load the submission: ${loadError}`, errorKind: 'load' });
  const fn = lookup(req.op);
  if (!fn) return send({ id, error: `the submission exports no function ${req.op}`, errorKind: 'missing' });
  const inputs: Record<string, ReturnType<typeof decode>> = {};
  const copies: Record<string, Float64Array> = {};
  for (const [k, t] of Object.entries(req.inputs)) {
    inputs[k] = decode(t);
    copies[k] = inputs[k].data.slice();
  }
  let result: unknown;
  try {
    result = await fn(inputs, req.params);
  } catch (e) {
    const denied = (e as { code?: string })?.code === 'ERR_ACCESS_DENIED' ? ' (the submission may read only its own folder and write only to its scratch folder, $TMPDIR)' : '';
    const msg = (e instanceof Error ? `${e.name}: ${e.message}` : `threw ${String(e)}`) + denied;
    return send({ id, error: msg, errorKind: 'threw' });
  }
  const mutated = Object.keys(copies).filter((k) => inputs[k].data.some((v, i) => !Object.is(v, copies[k][i])));
  try {
    send({ id, outputs: toOutputs(result, req.outputNames ?? ['y']), ...(mutated.length ? { mutatedInputs: mutated } : {}) });
  } catch (e) {
    send({ id, error: (e as Error).message, errorKind: 'bad-return' });
  }
}

await load();
let chain = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  chain = chain.then(() => handle(line));
});
