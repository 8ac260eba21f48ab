import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, cpSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { getOp, resolveParams, fromData, encodeTensor } from '../src/index.js';
import { MISTAKES } from '../src/grading/mistakes.js';
import { climb } from '../src/grading/ladder.js';
import { allowances, SEVERITY_KEPT } from '../src/judge/index.js';
import { diagnose, grade, type GradeResult } from '../src/grading/grade.js';
import { defaultAssignment, loadAssignment, parseAssignment, collectCases } from '../src/grading/assignment.js';
import { jsSubmission } from '../src/grading/process.js';
import { ancestors } from '../src/sandbox/sandbox.js';
import { caseFeedback, INSTRUCTOR_VIEW, toGradescope, toJUnit, toPrairieLearn, toText, toHtml } from '../src/grading/report.js';
import { cli as runCli } from './helpers/cli.js';

const ROOT = join(__dirname, '..');
const JS = join(ROOT, 'examples', 'submissions', 'js');
const TS = join(ROOT, 'examples', 'submissions', 'ts');
const INTRO = loadAssignment(join(ROOT, 'examples', 'assignments', 'intro.json'));
const cli = (args: string[], opts: { cwd?: string } = {}) => runCli(args, { cwd: opts.cwd ?? ROOT });
const byTest = (r: GradeResult) => Object.fromEntries(r.tests.map((t) => [t.name, t]));

describe('the catalogue of known mistakes', () => {
  it('is listed in full in the README', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const m of MISTAKES) expect(readme, m.id).toContain(`| \`${m.id}\` | ${m.title} |`);
  });

  it('has at least ten entries, on distinct ops, each with a trigger', async () => {
    expect(MISTAKES.length).toBeGreaterThanOrEqual(10);
    expect(new Set(MISTAKES.map((m) => m.id)).size).toBe(MISTAKES.length);
  });

  for (const m of MISTAKES) {
    it(`${m.id}: the wrong implementation fails its trigger and is diagnosed as itself`, async () => {
      const op = getOp(m.op);
      const inputs = Object.fromEntries(Object.entries(m.trigger.inputs).map(([k, v]) => [k, fromData(v.data, v.shape)]));
      const params = resolveParams(op, m.trigger.params);
      const expected = op.reference(inputs, params);
      const wrong = m.apply(inputs, params);
      const policy = { kind: 'bound', precision: 'float32' } as const;
      const outputs = Object.fromEntries(Object.entries(wrong).filter(([k]) => expected[k]).map(([k, a]) => [k, encodeTensor(a, op.outputs.find((o) => o.name === k)?.dtype ?? 'float64')]));
      const check = climb(op, inputs, params, expected, { ok: true, ms: 0, response: { id: 'x', outputs } }, policy);
      expect(check.passed).toBe(false);
      expect(diagnose(op, inputs, params, check.got!, policy)?.id).toBe(m.id);
      // and the right answer is neither failed nor diagnosed
      const right = Object.fromEntries(Object.entries(expected).map(([k, a]) => [k, encodeTensor(a, op.outputs.find((o) => o.name === k)?.dtype ?? 'float64')]));
      expect(climb(op, inputs, params, expected, { ok: true, ms: 0, response: { id: 'x', outputs: right } }, policy).passed).toBe(true);
    });
  }
});

describe('the check ladder', () => {
  const op = getOp('relu');
  const inputs = { x: fromData([1, -2], [2]) };
  const expected = op.reference(inputs, {});
  const policy = { kind: 'bound', precision: 'float32' } as const;
  const answer = (response: object) => climb(op, inputs, {}, expected, { ok: true, ms: 0, response: { id: 'a', ...response } }, policy);
  it.each([
    [{ error: 'the submission exports no function relu', errorKind: 'missing' }, 'exists'],
    [{ error: 'TypeError: x is undefined', errorKind: 'threw' }, 'returns'],
    [{ outputs: { y: { shape: [3], data: [1, 0, 0] } } }, 'shape'],
    [{ outputs: { y: { shape: [2], dtype: 'bool', data: [true, false] } } }, 'dtype'],
    [{ outputs: { y: { shape: [2], data: [1, 'NaN'] } } }, 'finite'],
    [{ outputs: { y: { shape: [2], data: [1, 0.5] } } }, 'values'],
    // the runner sends back the bytes of each input after the call; the grader compares them with what it sent
    [{ outputs: { y: { shape: [2], data: [1, 0] } }, inputsAfter: { x: Buffer.from(new Float64Array([1, 0]).buffer).toString('base64') } }, 'properties'],
    [{ outputs: { y: { shape: [2], data: [1, 0] } }, inputsAfter: { x: 'not base64 of two float64' } }, 'properties'],
  ])('%j stops at %s', (response, rung) => {
    const r = answer(response);
    expect(r.passed).toBe(false);
    expect(r.rung).toBe(rung);
    expect(r.message).toBeTruthy();
  });
  it('passes the right answer, with −0 equal to 0, in JSON or binary (base64) tensors, inputs unchanged', async () => {
    expect(answer({ outputs: { y: { shape: [2], data: [1, -0] } } }).passed).toBe(true);
    const b64 = (a: number[]) => Buffer.from(new Float64Array(a).buffer).toString('base64');
    expect(answer({ outputs: { y: { shape: [2], dtype: 'float64', base64: b64([1, 0]) } }, inputsAfter: { x: b64([1, -2]) } }).passed).toBe(true);
    expect(answer({ outputs: { y: { shape: [2], dtype: 'float32', base64: Buffer.from(new Float32Array([1, 0]).buffer).toString('base64') } } }).passed).toBe(true);
    expect(answer({ outputs: { y: { shape: [2], dtype: 'float64', base64: b64([1, 0.5]) } } }).rung).toBe('values');
    expect(answer({ outputs: { y: { shape: [3], dtype: 'float64', base64: b64([1, 0]) } } }).rung).toBe('shape');
  });
  it('tolerates float32 rounding but not a wrong value', async () => {
    const c = getOp('conv2d');
    const g = c.generate!(new (class { i = 0; next() { return (this.i = (this.i * 7 + 3) % 11) / 11; } int(a: number, b: number) { return a + Math.floor(this.next() * (b - a + 1)); } pick<T>(x: T[]) { return x[0]; } dyadic() { return this.next() * 2 - 1; } float32() { return this.next(); } })() as never);
    const p = resolveParams(c, g.params);
    const exp = c.reference(g.inputs, p);
    const f32 = { y: { ...encodeTensor(exp.y), data: Array.from(exp.y.data, (v) => Math.fround(v)) } };
    expect(climb(c, g.inputs, p, exp, { ok: true, ms: 0, response: { id: 'a', outputs: f32 } }, { kind: 'bound', precision: 'float32' }).passed).toBe(true);
    const off = { y: { ...encodeTensor(exp.y), data: Array.from(exp.y.data, (v, i) => (i === 0 ? v + 1e-3 * (1 + Math.abs(v)) : v)) } };
    expect(climb(c, g.inputs, p, exp, { ok: true, ms: 0, response: { id: 'a', outputs: off } }, { kind: 'bound', precision: 'float32' }).rung).toBe('values');
  });
});

describe('grading submissions end to end (child processes)', () => {
  it('a correct JS submission and a correct Python submission score full marks', async () => {
    const js = await grade(jsSubmission(join(JS, 'correct.js')), INTRO, { student: 'ada' });
    expect(js.score).toBe(js.maxScore);
    const py = await grade({ kind: 'command', command: 'python3 student.py', cwd: join(ROOT, 'examples', 'submissions', 'python') }, INTRO, { student: 'ada' });
    expect(py.score).toBe(py.maxScore);
  });

  it('--backend: expected values from a float32 backend grade the same (allowances widened by its bound)', async () => {
    const t = INTRO.tests.find((x) => x.op === 'conv2d')!;
    const fast = await collectCases(INTRO, t, 'ada', 'simd');
    const exact = await collectCases(INTRO, t, 'ada');
    expect(fast.every((c) => c.expectedBy === 'simd')).toBe(true);
    const pool = await collectCases(INTRO, INTRO.tests.find((x) => x.op === 'maxPool2d')!, 'ada', 'accelerated');
    expect(pool.every((c) => c.expectedBy === 'reference')).toBe(true); // int64 indices stay exact
    // the float32 answers differ from the exact ones, but by less than the widened allowance
    const c = fast.find((k) => k.random)!;
    const e = exact.find((k) => k.id === c.id)!;
    const policy = { kind: 'bound', precision: 'float32' } as const;
    const wide = allowances(c.op, c.inputs, c.params, c.expected, policy, 'simd').y;
    const narrow = allowances(c.op, c.inputs, c.params, c.expected, policy).y;
    const ye = e.expected.y.data as Float64Array;
    (c.expected.y.data as Float64Array).forEach((v, i) => {
      expect(Math.abs(v - ye[i])).toBeLessThanOrEqual(narrow(i, v));
      expect(wide(i, v)).toBeGreaterThan(narrow(i, v));
    });
    const ok = byTest(await grade(jsSubmission(join(JS, 'correct.js')), INTRO, { student: 'ada', backend: 'simd' }));
    expect(Object.values(ok).every((x) => x.status === 'passed')).toBe(true);
    const bad = byTest(await grade(jsSubmission(TS), INTRO, { backend: 'simd' }));
    expect(bad.conv2d.cases.find((k) => k.id === 'mistake:conv2d/flipped-kernel')?.diagnosis?.id).toBe('conv2d/flipped-kernel');
    const out = await cli(['grade', join(JS, 'correct.js'), '-a', join(ROOT, 'examples', 'assignments', 'intro.json'), '--backend', 'accelerated', '-f', 'json']);
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout).score).toBe(JSON.parse(out.stdout).maxScore);
  }, 60000);

  it('TypeScript (a folder of modules) runs without a build step, and its mistake is named', async () => {
    const r = byTest(await grade(jsSubmission(TS), INTRO));
    expect(r.conv2d.score).toBeLessThan(r.conv2d.maxScore);
    expect(r.conv2d.cases.filter((c) => !c.passed).every((c) => c.diagnosis?.id === 'conv2d/flipped-kernel' || c.rung !== 'values')).toBe(true);
    expect(r.conv2d.cases.find((c) => c.id === 'mistake:conv2d/flipped-kernel')?.diagnosis?.id).toBe('conv2d/flipped-kernel');
    expect(r.maxPool2d.status).toBe('passed');
  });

  it('a program that cannot start is reported with what it said', async () => {
    const a = parseAssignment({ name: 'x', tests: [{ op: 'relu', cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }] }, ROOT);
    const r = await grade({ kind: 'command', command: 'python3 no-such-file.py', cwd: join(ROOT, 'examples', 'submissions', 'python') }, a);
    expect(r.gradable).toBe(false);
    expect(r.score).toBe(0);
    expect(r.formatErrors[0]).toMatch(/could not be started: the submission exited with status 2 before answering \(its last words on stderr: .*no-such-file\.py/);
  });

  it('a program has no network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'net-'));
    writeFileSync(join(dir, 'net.mjs'), `import { createInterface } from 'node:readline';
import { connect } from 'node:net';
createInterface({ input: process.stdin }).on('line', (l) => {
  const { id } = JSON.parse(l);
  const s = connect(80, '1.1.1.1');
  s.on('error', (e) => process.stdout.write(JSON.stringify({ id, error: 'network: ' + e.code }) + '\\n'));
  s.on('connect', () => process.stdout.write(JSON.stringify({ id, error: 'network: connected' }) + '\\n'));
});`);
    const a = parseAssignment({ name: 'net', tests: [{ op: 'relu', cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }] }, dir);
    const r = await grade({ kind: 'command', command: `${process.execPath} net.mjs`, cwd: dir }, a);
    expect(r.isolation!.network).toBe('none');
    expect(r.tests[0].cases[0].message).toMatch(/network: E/);
  });

  it('shrinking a slow submission never leaves a request running for the next case', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slow-'));
    // each call takes 0.7 s and is wrong: shrinking runs out of its budget in the middle of a run
    writeFileSync(join(dir, 'index.mjs'), `import { conv2d as right } from './correct.js';\nexport function conv2d(i, p) { const t = Date.now() + 700; while (Date.now() < t); const y = right(i, p); y.data = y.data.map((v) => v + 1); return y; }\n`);
    copyFileSync(join(JS, 'correct.js'), join(dir, 'correct.js'));
    const a = parseAssignment({ name: 'slow', timeLimitMs: 2000, tests: [{ op: 'conv2d', random: 2 }] }, dir);
    const r = await grade(jsSubmission(dir, {}), a);
    const cases = r.tests[0].cases;
    expect(cases.map((c) => c.rung)).toEqual(['values', 'values']);
    for (const c of cases) expect(c.ms).toBeLessThan(2000);
  }, 90000);

  it('random cases are seeded per student: reproducible, and different between students', async () => {
    const t = INTRO.tests.find((x) => x.op === 'conv2d')!;
    const a1 = (await collectCases(INTRO, t, 'ada')).filter((c) => c.random);
    const a2 = (await collectCases(INTRO, t, 'ada')).filter((c) => c.random);
    const b = (await collectCases(INTRO, t, 'bob')).filter((c) => c.random);
    expect(a1.map((c) => Array.from(c.inputs.x.data))).toEqual(a2.map((c) => Array.from(c.inputs.x.data)));
    expect(a1.map((c) => Array.from(c.inputs.x.data))).not.toEqual(b.map((c) => Array.from(c.inputs.x.data)));
  });

  it('a failing random case is shrunk to a smaller reproducer', async () => {
    const r = byTest(await grade(jsSubmission(join(JS, 'unbiased-bn.js')), INTRO, { student: 'cy' }));
    const shrunk = r.batchNorm.cases.find((c) => c.random && !c.passed && c.shrunk);
    expect(shrunk).toBeDefined();
    const zeros = (t: { data: unknown[] }) => t.data.filter((v) => v === 0).length;
    const orig = shrunk!.inputs!.x;
    expect(zeros(shrunk!.shrunk!.inputs.x)).toBeGreaterThan(zeros(orig));
    // conformance's rule (judge/shrink.ts): the same rung, and ≥ 50 % of the original's error × allowance
    const { from, to } = shrunk!.shrunk!.severity;
    expect(from).toBeGreaterThan(1);
    expect(to).toBeGreaterThanOrEqual(SEVERITY_KEPT * from);
    expect(shrunk!.rung).toBe('values');
    expect(caseFeedback(shrunk!)).toMatch(/A smaller input that fails the same way \(error [\d.e+]+× the allowance; the original case: [\d.e+]+×\):/);
    expect(r.batchNorm.cases.find((c) => c.id === 'mistake:batchNorm/unbiased-variance')?.diagnosis?.id).toBe('batchNorm/unbiased-variance');
  });
});

describe('results formats', () => {
  let result: GradeResult;
  it('are written from one result', async () => {
    result = await grade(jsSubmission(TS), INTRO, { student: 'ada' });
    const gs = toGradescope(result) as { score: number; tests: { name: string; score: number; max_score: number; status: string; visibility: string; output: string }[] };
    expect(gs.score).toBeCloseTo(result.score, 3);
    expect(gs.tests).toHaveLength(6);
    expect(gs.tests[0]).toMatchObject({ name: 'conv2d', max_score: 4, status: 'failed', visibility: 'visible' });
    expect(gs.tests[0].output).toContain('Looks like: the kernel is flipped');
    expect(gs.tests.find((t) => t.name === 'batchNorm')!.visibility).toBe('after_due_date');
    const pl = toPrairieLearn(result) as { score: number; gradable: boolean; tests: { points: number; max_points: number }[] };
    expect(pl.score).toBeCloseTo(result.score / result.maxScore, 6);
    expect(pl.gradable).toBe(true);
    const junit = toJUnit(result);
    const failures = result.tests.reduce((s, t) => s + t.total - t.passed, 0);
    expect(junit).toMatch(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\n<testsuites name="Assignment 1: CNN building blocks" tests="\\d+" failures="${failures}"`));
    expect(junit).toContain('<failure message="looks like: the kernel is flipped" type="values">');
    expect(toText(result, INSTRUCTOR_VIEW, false)).toMatch(/◐ conv2d +[\d.]+ \/ 4 +\(\d+\/22 cases\) +looks like: the kernel is flipped/);
    expect(toHtml(result)).toContain('<svg');
  }, 60000); // a TypeScript submission graded with diagnosis and shrinking: 1.15 s idle, past vitest's 5 s default on a loaded machine

  it.runIf(existsChromium())('the HTML report renders in headless Chromium with heatmaps', async () => {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, toHtml(result, INSTRUCTOR_VIEW));
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto('file://' + file);
      expect(await page.textContent('#score')).toBe(`${Math.round(result.score * 1000) / 1000} / 12`);
      const section = page.locator('section.case[data-test="conv2d"]').first();
      expect(await section.locator('svg.heatmap').count()).toBe(3); // expected, got, difference
      const box = await section.locator('svg.heatmap').first().boundingBox();
      expect(box!.width).toBeGreaterThan(10);
      expect(await section.locator('.diagnosis').textContent()).toContain('the kernel is flipped');
      await page.screenshot({ path: join(dir, 'report.png') });
    } finally {
      await browser.close();
    }
  }, 60000);
});

function existsChromium(): boolean {
  try {
    readFileSync('/usr/bin/chromium');
    return true;
  } catch {
    return false;
  }
}

describe('the CLI', () => {
  it('grade writes Gradescope results.json; bad assignments exit 2 naming the field', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gs-')), 'results.json');
    const r = await cli(['grade', join(JS, 'correct.js'), '--assignment', 'examples/assignments/intro.json', '--format', 'gradescope', '--out', out]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).score).toBe(12);
    const dir = mkdtempSync(join(tmpdir(), 'asg-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'x', tests: [{ op: 'conv2d', pionts: 3, random: 1 }] }));
    const bad = await cli(['grade', join(JS, 'correct.js'), '--assignment', join(dir, 'a.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"pionts"');
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ name: 'x', tests: [{ op: 'conv3d', random: 1 }] }));
    expect((await cli(['grade', join(JS, 'correct.js'), '--assignment', join(dir, 'b.json')])).stderr).toContain('/tests/0/op');
  });

  it('an instructor adapter maps the catalogue calls onto a student’s own signatures', async () => {
    const r = await cli(['grade', 'examples/submissions/positional/student.js', '--adapter', 'examples/adapters/positional.mjs', '--assignment', 'examples/assignments/positional.json', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ score: 3, maxScore: 3 });
  });

  it('grade-all grades a folder in parallel into a CSV gradebook; one broken submission does not stop it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'class-'));
    mkdirSync(join(dir, 'ada'));
    copyFileSync(join(JS, 'correct.js'), join(dir, 'ada', 'index.js'));
    cpSync(TS, join(dir, 'bob'), { recursive: true });
    mkdirSync(join(dir, 'cy'));
    copyFileSync(join(JS, 'correct.js'), join(dir, 'cy', 'correct.js'));
    writeFileSync(join(dir, 'cy', 'index.js'), "export * from './correct.js';\nexport function linear() { process.exit(0); }\n");
    mkdirSync(join(dir, 'dan')); // an empty folder: no submission
    const csv = join(dir, '..', `grades-${Date.now()}.csv`);
    const r = await cli(['grade-all', dir, '--assignment', 'examples/assignments/intro.json', '--csv', csv, '--jobs', '2']);
    expect(r.status).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('student,score,max_score,conv2d,maxPool2d,relu,linear,softmax,batchNorm,mistakes,status');
    expect(lines[1]).toBe('ada,12,12,4,2,1,1,1,3,,graded');
    expect(lines[2]).toMatch(/^bob,9\.273,12,1\.273,2,1,1,1,3,conv2d\/flipped-kernel \(\d+\),graded$/);
    expect(lines[3]).toMatch(/^cy,11,12,4,2,1,0,1,3,,graded$/);
    expect(lines[4]).toMatch(/^dan,0,12,0,0,0,0,0,0,,"not gradable: .*index/);
  }, 60000);

  it('the default assignment covers every op and the reference submission scores full marks on it', async () => {
    const a = defaultAssignment();
    expect(a.tests.length).toBeGreaterThan(55);
    // The reference submission is the oracle itself and reads the whole checkout (--allow-read). A
    // checkout inside a folder other users cannot search (a clone in `mktemp -d`) is out of the
    // sandbox user's reach (the grader says so by name: sandbox.test.ts); there the trusted
    // reference runs with the grader's own rights, since what this test checks is the assignment.
    // Its copy then lies outside the package, so it imports the oracle by path, not by name.
    const reachable = [ROOT, ...ancestors(ROOT)].every((d) => (statSync(d).mode & 0o001) !== 0);
    let submission = join(JS, 'reference.mjs');
    if (!reachable) {
      console.warn(`\n*** ${ROOT} lies in a folder other users cannot search: the reference submission runs without a sandbox in this test ***\n`);
      const text = readFileSync(submission, 'utf8');
      const byPath = text.replace("from 'cnn-oracle'", `from '${pathToFileURL(join(ROOT, 'dist', 'src', 'index.js')).href}'`);
      expect(byPath).not.toBe(text);
      submission = join(mkdtempSync(join(tmpdir(), 'reference-')), 'reference.mjs');
      writeFileSync(submission, byPath);
    }
    const saved = process.env.CNN_ORACLE_SANDBOX;
    if (!reachable) process.env.CNN_ORACLE_SANDBOX = 'none';
    let r: GradeResult;
    try {
      r = await grade(jsSubmission(submission, { readable: ['package.json', 'dist', 'node_modules'].map((f) => join(ROOT, f)) }), a, { unsafeNoSandbox: !reachable });
    } finally {
      if (saved === undefined) delete process.env.CNN_ORACLE_SANDBOX;
      else process.env.CNN_ORACLE_SANDBOX = saved;
    }
    expect([...r.formatErrors, ...r.graderErrors]).toEqual([]); // not gradable says why, before every test reads as failed
    const failed = r.tests.filter((t) => t.status !== 'passed').map((t) => `${t.name}: ${t.cases.find((c) => !c.passed)?.message}`);
    expect(failed).toEqual([]);
    expect(r.score).toBe(r.maxScore);
  }, 60000);
});
