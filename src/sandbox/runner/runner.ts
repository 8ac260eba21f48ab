/**
 * The process that runs a JS/TS submission inside the sandbox: it loads the module (TypeScript
 * through tsx, no build step) and answers the line protocol (protocol.ts).
 *
 * This folder is all the sandbox gets of cnn-oracle: it imports only Node's built-ins, `ndarray`
 * and its own files, and holds no reference, fixture or mistake (a test checks its imports). It
 * never sees expected values; every judging step happens in the grader, on the bytes that come
 * back. Built-ins it needs after the submission has loaded are captured first, so a submission
 * that patches globals changes nothing but its own answers.
 *
 * Usage: node runner.js --root=SUBMISSION_FOLDER SUBMISSION_FILE [ADAPTER_FILE]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import ndarray from 'ndarray';
import { HELLO_ID, type Request, type Response } from './protocol.js';
import { toOutputs } from './normalize.js';
import { bytesToBase64, fromBase64, jsonNumber, toBase64, type WireTensor } from './wire.js';

const write = process.stdout.write.bind(process.stdout);
const stringify = JSON.stringify;
const parse = JSON.parse;
const keys = Object.keys;
const F64 = Float64Array;
const toLog = (...a: unknown[]) => void process.stderr.write(format(...a) + '\n');
console.log = console.info = console.debug = console.warn = toLog;

const send = (r: Response) => void write(stringify(r) + '\n');

const args = process.argv.slice(2);
const rootArg = args.find((a) => a.startsWith('--root='));
const [file, adapterFile] = args.filter((a) => !a.startsWith('--root='));
/** Paths as the student knows them: relative to the submission's folder. */
const ROOT = (rootArg ? rootArg.slice('--root='.length) : '/').replace(/\/?$/, '/');
const local = (s: string) => s.split(pathToFileURL(ROOT).href).join('').split(ROOT).join('');

type Fn = (...args: unknown[]) => unknown;
let mod: Record<string, unknown> | undefined;
let adapter: Record<string, unknown> | undefined;
let loadError: string | undefined;

/** A load failure in the student's words: a syntax error with its file, line and column and the line itself. */
function describeLoadError(e: unknown): string {
  if (!(e instanceof Error)) return `could not load the submission: ${String(e)}`;
  const msg = local(e.message);
  // tsx/esbuild: "Transform failed with 1 error:\n/submission/a.ts:3:7: ERROR: Expected ";" but found "x""
  const esb = /([^\s:]+\.[cm]?[jt]sx?):(\d+):(\d+): ERROR: (.*)/.exec(msg);
  if (esb) return `SyntaxError in ${esb[1]}, line ${esb[2]}, column ${Number(esb[3]) + 1}: ${esb[4]}`;
  if (e.name === 'SyntaxError') {
    // Node's loader does not say where an ES module's syntax error is; `node --check` does: the
    // file and line, the source line, a caret line under the column
    // (Node 20's `--check` passes a .js file whose module syntax it cannot parse as CommonJS, so
    // the .js files are then checked as modules too)
    const files = jsFiles(ROOT);
    const checks = [...files.map((f) => ['--check', f]), ...files.filter((f) => f.endsWith('.js')).map((f) => ['--experimental-default-type=module', '--check', f])];
    for (const args of checks) {
      const r = spawnSync(process.execPath, ['--no-warnings', ...args], { encoding: 'utf8', timeout: 10000 });
      if (r.status === 0) continue;
      const head = local(r.stderr ?? '').split('\n');
      const loc = /^(.+):(\d+)$/.exec(head[0] ?? '');
      const what = head.find((l) => l.startsWith('SyntaxError')) ?? `SyntaxError: ${msg}`;
      if (!loc) continue;
      const caret = head[2] ?? '';
      const column = caret.indexOf('^') + 1;
      return `SyntaxError in ${loc[1]}, line ${loc[2]}${column > 0 ? `, column ${column}` : ''}: ${what.replace(/^SyntaxError: /, '')}\n  ${head[1] ?? ''}\n  ${caret}`;
    }
    return `SyntaxError: ${msg}`;
  }
  return `could not load the submission: ${e.name}: ${msg}`;
}

/** The JavaScript files of the submission (its node_modules left out), for locating a syntax error. */
function jsFiles(dir: string, out: string[] = [], depth = 4): string[] {
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (out.length >= 200 || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isFile() && /\.[cm]?js$/.test(e.name)) out.push(p);
    else if (e.isDirectory() && depth > 0) jsFiles(p, out, depth - 1);
  }
  return out;
}

async function load(): Promise<void> {
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (adapterFile) adapter = (await import(pathToFileURL(adapterFile).href)) as Record<string, unknown>;
  } catch (e) {
    loadError = describeLoadError(e);
  }
}

function lookup(op: string): Fn | undefined {
  if (adapter) {
    const a = (adapter[op] ?? (adapter.default as Record<string, unknown> | undefined)?.[op]) as Fn | undefined;
    if (typeof a !== 'function') return undefined;
    return (inputs: unknown, params: unknown) => a(mod, inputs, params);
  }
  const f = mod?.[op] ?? (mod?.default as Record<string, unknown> | undefined)?.[op];
  return typeof f === 'function' ? (f as Fn) : undefined;
}

function decode(t: WireTensor): Float64Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if ('base64' in t) return fromBase64(t.base64, t.dtype ?? 'float64', n);
  const d = new F64(n);
  for (let i = 0; i < n; i++) d[i] = jsonNumber(t.data[i]);
  return d;
}

/** Why a file operation failed, with where the submission may read and write. */
function hint(e: unknown): string {
  const code = (e as { code?: string })?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ERR_ACCESS_DENIED' || code === 'EPERM') {
    return ' (a submission sees only its own folder, read-only, and a scratch folder $TMPDIR; an instructor can grant more with --allow-read)';
  }
  return '';
}

async function handle(line: string): Promise<void> {
  let req: Request;
  try {
    req = parse(line) as Request;
  } catch {
    return;
  }
  const { id } = req;
  if (id === HELLO_ID) return send({ id, outputs: {}, protocol: { encodings: ['json', 'base64'] }, ...(loadError ? { error: loadError, errorKind: 'load' as const } : {}) });
  if (loadError) return send({ id, error: loadError, errorKind: 'load' });
  const fn = lookup(req.op);
  if (!fn) return send({ id, error: `the submission exports no function ${req.op}`, errorKind: 'missing' });
  const inputs: Record<string, unknown> = {};
  const originals: Record<string, Float64Array> = {};
  try {
    for (const k of keys(req.inputs)) {
      originals[k] = decode(req.inputs[k]);
      inputs[k] = ndarray(originals[k], req.inputs[k].shape.slice());
    }
  } catch (e) {
    return send({ id, error: `the runner could not decode the request: ${(e as Error).message}`, errorKind: 'threw' });
  }
  let result: unknown;
  try {
    result = await fn(inputs, req.params);
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${local(e.message)}` : `threw ${String(e)}`;
    return send({ id, error: msg + hint(e), errorKind: 'threw' });
  }
  const inputsAfter: Record<string, string> = {};
  for (const k of keys(originals)) inputsAfter[k] = bytesToBase64(originals[k]);
  let outputs: Record<string, WireTensor>;
  try {
    const plain = toOutputs(result, req.outputNames ?? ['y']);
    outputs = {};
    for (const k of keys(plain)) outputs[k] = { shape: plain[k].shape, dtype: plain[k].dtype, base64: toBase64(plain[k].values, plain[k].dtype) };
  } catch (e) {
    return send({ id, error: (e as Error).message, errorKind: 'bad-return', inputsAfter });
  }
  send({ id, outputs, inputsAfter });
}

const loaded = load();
let chain: Promise<void> = loaded;
createInterface({ input: process.stdin }).on('line', (line) => {
  chain = chain.then(() => handle(line));
});
