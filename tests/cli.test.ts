import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { buildFixtures } from '../src/fixtures.js';
import { validateEvalResult } from '../src/schemas.js';
import { VERSION } from '../src/version.js';

import { BIN, ROOT, cli as runCli, spawnCli } from './helpers/cli.js';

// in process: the program of src/cli/index.ts, as the bin runs it
const cli = async (args: string[], input?: string) => {
  const r = await runCli(args, { input });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'cnn-oracle-'));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const sobel = {
  id: 'sobel',
  op: 'convolve',
  inputs: { a: { shape: [3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, b: { shape: [3, 3], data: [-1, -2, -1, 0, 0, 0, 1, 2, 1] } },
  params: { mode: 'same' },
};

describe('cnn-oracle eval', () => {
  it('evaluates one case and prints one JSON line (schema-valid)', async () => {
    const r = await cli(['eval', write('one.json', JSON.stringify(sobel))]);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out);
    expect(validateEvalResult(line)).toBe(true);
    expect(line).toEqual({ id: 'sobel', op: 'convolve', outputs: { y: { shape: [3, 3], dtype: 'float64', data: [-13, -20, -17, -18, -24, -18, 13, 20, 17] } } });
  });

  it('reads arrays, JSON Lines and standard input, in input order, ignoring expected/tolerance', async () => {
    const two = [{ ...sobel, id: 'a' }, { ...sobel, id: 'b', expected: { y: { shape: [1], data: [0] } }, tolerance: { rtol: 1 } }];
    const arr = await cli(['eval', write('arr.json', JSON.stringify(two))]);
    expect(arr.out.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['a', 'b']);
    const jsonl = await cli(['eval', write('c.jsonl', two.map((c) => JSON.stringify(c)).join('\n'))]);
    expect(jsonl.out).toBe(arr.out);
    const stdin = await cli(['eval', '-'], two.map((c) => JSON.stringify(c)).join('\n'));
    expect(stdin.out).toBe(arr.out);
  });

  it('reports a case that cannot run as an error line and exits 1, going on with the rest', async () => {
    const bad = { id: 'bad', op: 'conv2d', inputs: { x: { shape: [1, 1, 3, 3], data: new Array(9).fill(1) }, weight: { shape: [1, 1, 2, 2], data: [1, 1, 1, 1] } }, params: { stride: [1, 0] } };
    const r = await cli(['eval', write('bad.json', JSON.stringify([bad, sobel]))]);
    expect(r.code).toBe(1);
    const [first, second] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(first.error).toEqual({ code: 'INVALID_PARAMS', message: expect.stringContaining('stride'), path: '/params/stride' });
    expect(validateEvalResult(first)).toBe(true);
    expect(second.outputs.y.data[0]).toBe(-13);
  });

  it.each([
    [{ op: 'conv3d' }, 'UNKNOWN_OP', '/op'],
    [{ id: 'x' }, 'INVALID_CASE', '/op'],
    [{ op: 'relu', input: {} }, 'INVALID_CASE', '/input'],
    [{ op: 'relu', inputs: { x: { shape: [2], data: [1] } } }, 'INVALID_TENSOR', '/inputs/x/data'],
    [{ op: 'relu', inputs: { x: { shape: [2], data: [1, 'one'] } } }, 'INVALID_CASE', '/inputs/x/data/1'],
    [{ op: 'relu', inputs: {} }, 'INVALID_INPUTS', '/inputs/x'],
    [{ op: 'softmax', inputs: { x: { shape: [2], data: [1, 2] } }, params: { dim: 'last' } }, 'INVALID_PARAMS', '/params/dim'],
  ])('%j → %s at %s', async (c, code, path) => {
    const r = await cli(['eval', '-'], JSON.stringify(c));
    expect(r.code).toBe(1);
    const line = JSON.parse(r.out);
    expect(line.error.code).toBe(code);
    expect(line.error.path).toBe(path);
    expect(r.err).toBe('');
  });

  it('exits 2 with one line and no stack trace for unreadable or malformed files', async () => {
    for (const [args, input, msg] of [
      [['eval', join(tmp, 'missing.json')], undefined, 'cannot read: no such file'],
      [['eval', write('broken.json', '{"op": "relu",\n "inputs": }')], undefined, 'not valid JSON'],
      [['eval', '-'], '', 'empty'],
      [['check', write('broken2.json', '[1, 2')], undefined, 'not valid JSON'],
    ] as [string[], string | undefined, string][]) {
      const r = await cli(args, input);
      expect(r.code).toBe(2);
      expect(r.err).toContain(msg);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/at .*\.js:\d+/);
    }
    expect((await cli(['eval', write('broken3.json', '{"op": "relu",\n "inputs": }')])).err).toContain('line 2');
  });

  it('a bad line of a JSON Lines file is that case’s error only', async () => {
    const r = await cli(['eval', write('mixed.jsonl', `${JSON.stringify(sobel)}\n{oops\n`)]);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].outputs).toBeDefined();
    expect(lines[1].error.code).toBe('INVALID_JSON');
  });

  it('writes -0 as -0.0 and non-finite values as strings', async () => {
    const r = await cli(['eval', '-'], JSON.stringify({ op: 'leakyRelu', inputs: { x: { shape: [3], data: ['-0', 'Infinity', 'NaN'] } } }));
    expect(r.out).toContain('"data":[-0.0,"Infinity","NaN"]');
  });

  it('--out writes to a file; --help and --version exit 0; usage errors exit 2', async () => {
    const out = join(tmp, 'out.jsonl');
    expect((await cli(['eval', write('o.json', JSON.stringify(sobel)), '--out', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).id).toBe('sobel');
    expect((await cli(['--version'])).out.trim()).toBe(VERSION);
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli(['eval'])).code).toBe(2);
    expect((await cli(['eval', 'x.json', '--backend', 'gpu'])).code).toBe(2);
  });
});

describe('cnn-oracle check', () => {
  it('passes the committed fixtures, printing N passed, M failed', async () => {
    const files: string[] = [];
    const walk = (d: string) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : f.endsWith('.jsonl') && files.push(join(d, f))));
    walk(join(__dirname, '..', 'fixtures'));
    expect(files.length).toBeGreaterThan(10);
    const r = await cli(['check', '--quiet', ...files]);
    expect(r.out).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  it('fails a wrong expected value with an assert_close-style report', async () => {
    const c = { ...sobel, expected: { y: { shape: [3, 3], data: [-13, -20, -17, -18, -24.5, -18, 13, 20, 17] } } };
    const r = await cli(['check', write('wrong.json', JSON.stringify(c))]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL sobel (convolve): y: mismatched elements: 1 / 9 (11.1%)');
    expect(r.out).toContain('greatest absolute difference: 0.5 at index (1, 1)');
    expect(r.out).toMatch(/0 passed, 1 failed\n$/);
  });

  it('uses the case tolerance when given, and reports shape mismatches', async () => {
    const near = { ...sobel, expected: { y: { shape: [3, 3], data: [-13, -20, -17, -18, -24.001, -18, 13, 20, 17] } }, tolerance: { rtol: 1e-3, atol: 0 } };
    expect((await cli(['check', write('near.json', JSON.stringify(near))])).code).toBe(0);
    const shape = { ...sobel, expected: { y: { shape: [9], data: [-13, -20, -17, -18, -24, -18, 13, 20, 17] } } };
    expect((await cli(['check', write('shape.json', JSON.stringify(shape))])).out).toContain('shape [3, 3] differs from the expected [9]');
  });
});

describe('cnn-oracle gradcheck', () => {
  it('passes correct backward cases and names a forward op given by mistake', async () => {
    const r = await cli(['gradcheck', join(__dirname, '..', 'fixtures', 'backward', 'conv2dBackward.jsonl')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PASS conv2dBackward\/random-0: dx \S+, dweight \S+, dbias \S+$/m);
    const bad = await cli(['gradcheck', '-'], JSON.stringify(sobel));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('convolve is not a backward op');
  });

  it('fails a backward case whose op output is wrong for its inputs (dy of the wrong shape)', async () => {
    const c = { op: 'reluBackward', inputs: { x: { shape: [2], data: [1, -1] }, dy: { shape: [3], data: [1, 1, 1] } } };
    const r = await cli(['gradcheck', '-'], JSON.stringify(c));
    expect(r.code).toBe(1);
    expect(r.out).toContain('/inputs/dy/shape');
  });
});

describe('cnn-oracle backends, ops and --backend', () => {
  it('lists each backend with its ops, and each op with its backends', async () => {
    const b = JSON.parse((await cli(['backends', '--json'])).out);
    expect(b.reference).toEqual({ precision: 'float64', exact: true });
    expect(b.accelerated.ops).toContain('conv2d');
    expect(b.simd.ops).toEqual(expect.arrayContaining(['conv2d', 'nms', 'roiAlign']));
    expect(b.simd.threads).toBeGreaterThanOrEqual(1);
    const op = JSON.parse((await cli(['ops', 'conv2d', '--json'])).out);
    expect(op.backends).toEqual(['reference', 'accelerated', 'simd']);
    expect(op.accelerated).toBe(true);
    expect((await cli(['ops', 'relu'])).out).toMatch(/^backends: reference$/m);
  });

  it('--backend simd checks the fixtures within the float32 bound, and names the backends an op lacks', async () => {
    const ok = await cli(['check', '--quiet', '--backend', 'simd', join(__dirname, '..', 'fixtures', 'detection', 'nms.jsonl')]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^\d+ passed, 0 failed$/m);
    const r = await cli(['eval', '--backend', 'simd', write('relu.json', JSON.stringify({ op: 'relu', inputs: { x: { shape: [2], data: [-1, 1] } } }))]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error).toEqual({ code: 'UNSUPPORTED', message: 'relu has no simd implementation (its backends: reference)', path: '/op' });
    const bad = await cli(['eval', '--backend', 'gpu', write('relu2.json', '{}')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/'gpu' is invalid. Allowed choices are reference, accelerated, simd/);
  });
});

describe('cnn-oracle generate', () => {
  it('writes class-index targets as int64, and --expected with the reference outputs', async () => {
    const lines = (await cli(['generate', 'crossEntropy', '-n', '6', '--expected'])).out.trim().split('\n').map((l) => JSON.parse(l));
    const indexTargets = lines.filter((c) => c.inputs.target.shape.length === 1);
    expect(indexTargets.length).toBeGreaterThan(0);
    for (const c of indexTargets) expect(c.inputs.target.dtype).toBe('int64');
    expect(lines.every((c) => c.expected.loss)).toBe(true);
    const r = await cli(['check', '-'], lines.map((c) => JSON.stringify(c)).join('\n'));
    expect(r.out).toMatch(/^6 passed, 0 failed$/m);
  });
});

describe('the bin (a real process)', () => {
  it('runs the program on its own streams: outputs on stdout, exit 0, 1 and 2 as in process', () => {
    const ok = spawnCli(['eval', '-'], { input: JSON.stringify(sobel) });
    expect([ok.status, ok.stderr]).toEqual([0, '']);
    expect(JSON.parse(ok.stdout).outputs.y.data).toEqual([-13, -20, -17, -18, -24, -18, 13, 20, 17]);
    const failed = spawnCli(['eval', '-'], { input: JSON.stringify({ op: 'relu', inputs: {} }) });
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout).error.path).toBe('/inputs/x');
    const usage = spawnCli(['eval', join(tmp, 'missing.json')]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^cnn-oracle: .*missing\.json: cannot read: no such file\n$/);
    expect(spawnCli(['--version']).stdout).toBe(VERSION + '\n');
  }, 60000); // four process start-ups of ~1.3 s each: over vitest's 5 s default on a loaded machine

  it('a reader that goes away early (| head) ends the run quietly', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" generate conv2d -n 2000 | head -c 10`], { encoding: 'utf8' });
    expect(r.stdout).toHaveLength(10);
    expect(r.stderr).toBe('');
  });

  // The test suite starts the bin hundreds of times: building the program (every command's options)
  // takes commander and the name lists only, and each command imports the modules that do its work.
  it('loads none of the ops, Ajv, gpu.js, the grader, the exercises or the conformance targets for --version and --help; the commands that use them do', () => {
    const HEAVY: Record<string, RegExp> = {
      registry: /\/dist\/src\/registry\.js$/,
      ops: /\/dist\/src\/ops\//,
      cases: /\/dist\/src\/cases\.js$/,
      ajv: /\/node_modules\/ajv\//,
      'gpu.js': /\/node_modules\/gpu\.js\//,
      grading: /\/dist\/src\/grading\/(?!names\.js$)/,
      exercises: /\/dist\/src\/exercises\//,
      conformance: /\/dist\/src\/conformance\/(?!target-names\.js$)/,
    };
    let runs = 0;
    /** The heavy groups a run of the bin loads (tests/helpers/trace-loads.mjs records every module). */
    const heavy = (args: string[], status: number): string[] => {
      const trace = join(tmp, `loads-${runs++}.txt`);
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'tests', 'helpers', 'trace-loads.mjs')).href, BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CNN_ORACLE_TRACE_LOADS: trace }, timeout: 60000 });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(status);
      const urls = readFileSync(trace, 'utf8').split('\n');
      expect(urls, 'the trace holds the bin itself').toContain(pathToFileURL(BIN).href);
      return Object.keys(HEAVY).filter((k) => urls.some((u) => HEAVY[k].test(u)));
    };
    for (const args of [['--version'], ['--help'], ['grade', '--help'], ['help', 'conformance']]) expect(heavy(args, 0), args.join(' ')).toEqual([]);
    // each pattern matches where the module is used, so a check above that finds nothing means something
    expect(heavy(['eval', 'fixtures/activation/relu.jsonl'], 0)).toEqual(expect.arrayContaining(['registry', 'ops', 'cases', 'ajv']));
    expect(heavy(['backends', '--json'], 0)).toContain('gpu.js');
    expect(heavy(['conformance', '--target', join(tmp, 'no-such-adapter.js')], 2)).toEqual(expect.arrayContaining(['grading', 'exercises', 'conformance']));
  }, 60000);
});

describe('fixtures', () => {
  it('are exactly what the committed generator produces (reproducible)', async () => {
    for (const [rel, text] of buildFixtures()) expect(readFileSync(join(__dirname, '..', 'fixtures', rel), 'utf8'), rel).toBe(text);
  });

  it('the package version matches package.json', async () => {
    expect(JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version).toBe(VERSION);
  });
});
