/**
 * Grading integrity and packaging: what each results format reveals to a student, answer sheets
 * the assignment (not the student) controls, load errors the student can act on, results written
 * whatever happens, the student id from the platforms' metadata, JUnit valid against its schema,
 * signals, grade-all's edges, GitHub Classroom's exit status and points, the HTML report in
 * Chromium, and the exports to Gradescope, PrairieLearn and GitHub Classroom run end to end.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { validateXML } from 'xmllint-wasm';
import { unzipSync } from 'fflate';
import YAML from 'yaml';
import { loadAssignment, parseAssignment } from '../src/grading/assignment.js';
import { grade, type GradeResult } from '../src/grading/grade.js';
import { jsSubmission } from '../src/grading/process.js';
import { render, toJUnit, FORMATS, INSTRUCTOR_VIEW, STUDENT_VIEW } from '../src/grading/report.js';
import { UID_SLOTS, uidBase } from '../src/sandbox/capabilities.js';
import { cli as runCli } from './helpers/cli.js';
import { setEnvForFile } from './helpers/env.js';

vi.setConfig({ testTimeout: 120000 });
// a uid range of this file's own, so that processes of other graders on the machine are not counted as left behind
setEnvForFile('CNN_ORACLE_SANDBOX_UID', String(64300 + 64 * Math.floor(Math.random() * 15)));
const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const TS = join(ROOT, 'examples', 'submissions', 'ts');
const JS = join(ROOT, 'examples', 'submissions', 'js');
const INTRO = join(ROOT, 'examples', 'assignments', 'intro.json');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: ROOT, env });
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const ajv = new Ajv2020({ strict: false, allErrors: true });
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(__dirname, 'schemas', name), 'utf8')));
const gradescopeSchema = schema('gradescope-results.schema.json');
const prairielearnSchema = schema('prairielearn-results.schema.json');
const classroomSchema = schema('classroom-result.schema.json');
const XSD = readFileSync(join(__dirname, 'schemas', 'junit.xsd'), 'utf8');
const junitErrors = async (xml: string) => (await validateXML({ xml: [{ fileName: 'r.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: XSD }] })).errors.map((e) => e.message);

/** An assignment with a hidden test and an after-due-date test, whose cases carry recognisable values. */
function secretAssignment(dir: string): string {
  const x = { shape: [1, 1, 2, 2], data: [1.5, 2.5, 3.5, 4.5] };
  writeFileSync(join(dir, 'bn.jsonl'), JSON.stringify({ id: 'bn/secret-case', op: 'batchNorm', inputs: { x: { shape: [2, 1, 1, 1], data: [7.25, 9.75] } }, params: { training: true } }) + '\n');
  writeFileSync(join(dir, 'pool.jsonl'), JSON.stringify({ id: 'pool/later-case', op: 'maxPool2d', inputs: { x }, params: { kernelSize: 2 } }) + '\n');
  const a = join(dir, 'secret.json');
  writeFileSync(a, JSON.stringify({ name: 'secrets', id: 's', tests: [{ op: 'conv2d', points: 2, random: 2 }, { op: 'batchNorm', points: 5, cases: ['bn.jsonl'], visibility: 'hidden' }, { op: 'maxPool2d', points: 3, cases: ['pool.jsonl'], visibility: 'after_due_date' }] }));
  return a;
}

/** Waits until `ready()` holds (at most a minute): a grader under way, not a fixed wait a busy machine can outlast. */
async function until(ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 60000;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('hidden tests do not leak', () => {
  const dir = tmp('secret-');
  const a = loadAssignment(secretAssignment(dir));
  let r: GradeResult;
  it('in any format a student reads', async () => {
    // a submission that fails everything, so that every failing case would be described
    writeFileSync(join(dir, 'wrong.mjs'), 'export const conv2d = () => ({ shape: [1], data: [0] }); export const batchNorm = () => ({ shape: [1], data: [0] }); export const maxPool2d = () => ({ shape: [1], data: [0] });\n');
    r = await grade(jsSubmission(join(dir, 'wrong.mjs')), a, { student: 'ada' });
    expect(r.maxScore).toBe(10);
    for (const format of FORMATS) {
      const text = render(r, format, STUDENT_VIEW);
      for (const secret of ['bn/secret-case', 'pool/later-case', '7.25', '9.75', '3.5', '"max_points": 5']) {
        if (format === 'gradescope') continue; // Gradescope enforces each test's visibility itself
        expect(text, `${format} shows ${secret}`).not.toContain(secret);
      }
    }
    const gs = JSON.parse(render(r, 'gradescope', STUDENT_VIEW));
    expect(gradescopeSchema(gs), JSON.stringify(gradescopeSchema.errors)).toBe(true);
    expect(gs.output).toMatch(/^secrets: 0 \/ 2\n2 more tests are not shown yet \(hidden, shown after the due date\)/); // not "0 / 10"
    expect(gs.tests.map((t: { visibility: string }) => t.visibility)).toEqual(['visible', 'hidden', 'after_due_date']);
    const pl = JSON.parse(render(r, 'prairielearn', STUDENT_VIEW));
    expect(prairielearnSchema(pl)).toBe(true);
    expect(pl.tests.map((t: { name: string }) => t.name)).toEqual(['conv2d']);
    expect(pl.message).toMatch(/2 more tests are not shown yet .* count in the score/);
    const junit = render(r, 'junit', STUDENT_VIEW);
    expect(await junitErrors(junit)).toEqual([]);
    expect(junit).toContain('<testsuite name="tests not shown yet" tests="2" failures="0" errors="0" skipped="2"');
    expect(JSON.parse(render(r, 'json', STUDENT_VIEW)).tests[1]).toEqual({ name: 'batchNorm', op: 'batchNorm', visibility: 'hidden', shown: false });
  });
  it('and an instructor, or --reveal after the due date, sees them', async () => {
    expect(render(r, 'html', INSTRUCTOR_VIEW)).toContain('pool&#x2F;later-case'); // Mustache escapes the slash
    expect(render(r, 'json', INSTRUCTOR_VIEW)).toContain('7.25');
    const revealed = render(r, 'text', { audience: 'student', reveal: ['after_due_date'] });
    expect(revealed).toMatch(/maxPool2d +0 \/ 3/);
    expect(revealed).not.toMatch(/batchNorm +0 \/ 5/);
    expect(revealed).toContain('Score: 0 / 5');
  });
});

describe('answer sheets are controlled by the assignment', () => {
  const dir = tmp('sheet-');
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'sheet', exercises: [{ id: 'params/10f5-total', points: 3 }] }));
  it('a sheet with a JSON error, or answers that are not an object, is a named error', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"answers": {"params/10f5-total": 760,}}');
    const r = await cli(['grade', join(dir, 'broken.json'), '--assignment', join(dir, 'a.json'), '--format', 'json']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.gradable).toBe(false);
    expect(res.formatErrors[0]).toMatch(/^broken\.json: an answer sheet must be valid JSON: .*\(line 1, column \d+\)/);
    writeFileSync(join(dir, 'five.json'), '{"answers": 5}');
    expect(JSON.parse((await cli(['grade', join(dir, 'five.json'), '--format', 'json'])).stdout).formatErrors[0]).toBe('five.json /answers: must be an object mapping exercise ids to answers, got 5');
  });
  it('unknown exercises add nothing; the variant is the graded student’s', async () => {
    writeFileSync(join(dir, 'cheat.json'), JSON.stringify({ student: 'x', variant: 0, answers: { 'params/10f5-total': 760, 'no/such': 1, 'params/lenet-conv1': 156 } }));
    const published = JSON.parse((await cli(['grade', join(dir, 'cheat.json'), '--assignment', join(dir, 'a.json'), '--student', 'ada', '--format', 'json'])).stdout);
    expect([published.score, published.maxScore]).toEqual([0, 3]); // 760 is the notes' answer, not ada's
    expect(published.notes.join(' ')).toMatch(/ignored: no\/such, params\/lenet-conv1/);
  });
  it('an assignment naming an unknown exercise is an error naming the field', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'x', exercises: [{ id: 'no/such' }] }));
    const r = await cli(['assignment', join(dir, 'bad.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\/exercises\/0\/id/);
  });
});

describe('a submission that cannot load says why', () => {
  const one = loadAssignment(INTRO);
  it('a syntax error in JS or TS names the file, line and column', async () => {
    const dir = tmp('syntax-');
    writeFileSync(join(dir, 'index.ts'), "import { helper } from './helper.js';\nexport const relu = (i: unknown) => helper(i);\n");
    writeFileSync(join(dir, 'helper.ts'), 'export function helper(x: number) {\n  return x +;\n}\n');
    const ts = await grade(jsSubmission(dir), one);
    expect(ts.gradable).toBe(false);
    expect(ts.formatErrors[0]).toMatch(/^SyntaxError in helper\.ts, line 2, column \d+: /);
    const js = join(tmp('syntax-'), 'index.mjs');
    writeFileSync(js, 'export function relu(x) {\n  return x.map((v) => v > 0 ? v : 0;\n}\n');
    const r = await grade(jsSubmission(js), one);
    expect(r.formatErrors[0]).toMatch(/^SyntaxError in index\.mjs, line 2, column \d+: missing \) after argument list\n/);
  });
  it('a read outside the sandbox names the path and --allow-read', async () => {
    const f = join(tmp('read-'), 'index.mjs');
    writeFileSync(f, "import { readFileSync } from 'node:fs';\nexport const relu = () => readFileSync('/etc/shadow-of-the-grader');\n");
    const r = await grade(jsSubmission(f), parseAssignment({ name: 'r', tests: [{ op: 'relu', cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }] }, ROOT));
    expect(r.tests[0].cases[0].message).toMatch(/ENOENT.*\/etc\/shadow-of-the-grader.*--allow-read/);
  });
});

describe('a results file is always written', () => {
  const out = (d: string, f = 'results.json') => join(d, f);
  it('for a missing entry file, a program that cannot start, a missing folder (exit 0, score 0, the reason shown)', async () => {
    const d = tmp('always-');
    mkdirSync(join(d, 'empty'));
    for (const [args, why] of [
      [[join(d, 'empty')], /a folder submission needs package.json "main" or an index/],
      [[join(ROOT, 'examples', 'submissions', 'python'), '--command', 'python3 missing.py'], /could not be started: .*missing\.py/],
      [[join(d, 'no-such-folder'), '--command', 'python3 student.py'], /no such file or folder/],
    ] as [string[], RegExp][]) {
      const gs = await cli(['grade', ...args, '--assignment', INTRO, '--format', 'gradescope', '--out', out(d)]);
      expect(gs.status, gs.stderr).toBe(0);
      const res = JSON.parse(readFileSync(out(d), 'utf8'));
      expect(gradescopeSchema(res)).toBe(true);
      expect(res.score).toBe(0);
      expect(res.tests[0]).toMatchObject({ name: 'The submission could not be graded', visibility: 'visible', status: 'failed' });
      expect(res.tests[0].output).toMatch(why);
      const pl = await cli(['grade', ...args, '--assignment', INTRO, '--format', 'prairielearn', '--out', out(d, 'pl.json')]);
      expect(pl.status).toBe(0);
      const p = JSON.parse(readFileSync(out(d, 'pl.json'), 'utf8'));
      expect(prairielearnSchema(p)).toBe(true);
      expect(p).toMatchObject({ gradable: false });
      expect(p.format_errors.join(' ')).toMatch(why);
    }
  });
  it('a timeLimitMs past the bound is an assignment error naming the field (exit 2, still a result file)', async () => {
    const d = tmp('limit-');
    writeFileSync(join(d, 'a.json'), JSON.stringify({ name: 'x', timeLimitMs: 3000000000, tests: [{ op: 'relu', random: 1 }] }));
    const r = await cli(['grade', join(JS, 'correct.js'), '--assignment', join(d, 'a.json'), '--format', 'gradescope', '--out', out(d)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/assignment \/timeLimitMs must be <= 600000/);
    expect(JSON.parse(readFileSync(out(d), 'utf8')).output).toMatch(/timeLimitMs/);
  });
  it('a grader killed while grading leaves a valid "not gradable" result, written atomically', async () => {
    const d = tmp('killed-');
    writeFileSync(join(d, 'loop.mjs'), 'export function relu() { for (;;); }\n');
    writeFileSync(join(d, 'a.json'), JSON.stringify({ name: 'k', timeLimitMs: 60000, tests: [{ op: 'relu', random: 1 }] }));
    chmodSync(join(d, 'a.json'), 0o600);
    const child = spawn(process.execPath, [CLI, 'grade', join(d, 'loop.mjs'), '--assignment', join(d, 'a.json'), '--format', 'gradescope', '--out', out(d)], { stdio: 'ignore' });
    await until(() => existsSync(out(d))); // killed while grading: once its provisional result is on disk
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const res = JSON.parse(readFileSync(out(d), 'utf8'));
    expect(gradescopeSchema(res)).toBe(true);
    expect(res.output).toMatch(/grading did not finish/);
    expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the student id comes from the platform, --student overrides it', () => {
  it('Gradescope’s submission_metadata.json and PrairieLearn’s data.json', async () => {
    // a submission that fails conv2d's random cases, so that their inputs are in the result
    const d = tmp('platform-sub-');
    writeFileSync(join(d, 'index.js'), 'export function conv2d() { throw new Error("not yet"); }\n');
    writeFileSync(join(d, 'a.json'), JSON.stringify({ name: 'p', id: 'p', feedback: { showInputs: true }, tests: [{ op: 'conv2d', points: 1, random: 2 }] }));
    const gradescope = (ids: number[]) => {
      const root = tmp('platform-');
      mkdirSync(join(root, 'autograder'));
      writeFileSync(join(root, 'autograder', 'submission_metadata.json'), JSON.stringify({ users: ids.map((id) => ({ id, email: `${id}@x`, name: 'n' })) }));
      return root;
    };
    const prairielearn = () => {
      const root = tmp('platform-');
      mkdirSync(join(root, 'grade', 'data'), { recursive: true });
      writeFileSync(join(root, 'grade', 'data', 'data.json'), JSON.stringify({ params: {}, variant_seed: 1234 }));
      return root;
    };
    const graded = async (root: string, extra: string[] = []) => JSON.parse((await cli(['grade', join(d, 'index.js'), '--assignment', join(d, 'a.json'), '--format', 'json', '--audience', 'instructor', ...extra], { CNN_ORACLE_PLATFORM_ROOT: root })).stdout);
    // one after another: the CLI runs in this process, and each run sets the environment
    const a = await graded(gradescope([7]));
    const group = await graded(gradescope([9, 8]));
    const eight = await graded(gradescope([8]));
    const sevenAgain = await graded(gradescope([7]));
    const ada = await graded(gradescope([7]), ['--student', 'ada']);
    const pl = await graded(prairielearn());
    expect(a.student).toBe('7');
    expect(a.notes.join(' ')).toMatch(/graded as 7, from Gradescope’s submission_metadata.json/);
    expect(group.student).toBe('8+9'); // a group shares one variant
    const inputsOf = (r: { tests: { cases: { random: boolean; inputs?: unknown }[] }[] }) => JSON.stringify(r.tests[0].cases.filter((c) => c.random).map((c) => c.inputs));
    expect(inputsOf(a)).toContain('"shape"');
    expect(inputsOf(eight)).not.toBe(inputsOf(a)); // another student, other random cases
    expect(inputsOf(sevenAgain)).toBe(inputsOf(a)); // the same student, the same cases
    expect(ada.student).toBe('ada');
    expect(pl.student).toBe('variant-1234');
  });
});

describe('JUnit XML', () => {
  it('is valid against the JUnit schema whatever the submission prints; not-run cases are skipped, time-outs errors', async () => {
    const d = tmp('junit-');
    writeFileSync(join(d, 'index.mjs'), "process.stderr.write('bad \\uFFFE chars \\u0001 <tag> ]]> & end\\n');\nexport function relu() { for (;;); }\nexport const conv2d = () => 1;\n");
    const a = parseAssignment({ name: 'j <&> "q"', timeLimitMs: 300, tests: [{ op: 'relu', cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }, { op: 'conv2d', random: 1 }] }, ROOT);
    const r = await grade(jsSubmission(d), a);
    const xml = toJUnit(r, STUDENT_VIEW);
    expect(await junitErrors(xml)).toEqual([]);
    expect(xml).not.toContain('\uFFFE');
    const relu = r.tests[0];
    expect(xml).toContain(`<testsuite name="relu" tests="${relu.total}" failures="0" errors="2" skipped="${relu.total - 2}"`);
    expect(xml).toMatch(/<error message="relu timed out: no answer within the time limit of 300 ms" type="returns">/);
    expect(xml).toMatch(/<skipped message="not run: the two previous relu cases timed out"/);
    expect(xml).toMatch(/<system-err>bad\s+chars\s+&lt;tag&gt; \]\]&gt; &amp; end/);
    expect(await junitErrors(xml.replace('<testcase ', '<testcase bogus="1" '))).not.toEqual([]); // the validator can fail
    const broken = toJUnit({ ...r, gradable: false, formatErrors: ['SyntaxError in x.js, line 1'] }, STUDENT_VIEW);
    expect(await junitErrors(broken)).toEqual([]);
    expect(broken).toContain('<error message="The submission could not be graded: SyntaxError in x.js, line 1" type="not-gradable">');
  });
});

describe('signals end every submission process', () => {
  /** Live processes of the sandbox uids (zombies, already dead, are reaped by init in a moment). */
  const sandboxProcs = () =>
    spawnSync('ps', ['-eo', 'uid=,stat='], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([u, stat]) => Number(u) >= uidBase() && Number(u) < uidBase() + UID_SLOTS && !stat?.startsWith('Z')).length;
  // the graders get a temporary folder of their own (other test files grade at the same time, in the machine's)
  const own = mkdtempSync(join(tmpdir(), 'signal-tmp-'));
  chmodSync(own, 0o711); // the sandbox user traverses it to its copy of the submission
  afterAll(() => rmSync(own, { recursive: true, force: true }));
  const sandboxDirs = () => readdirSync(own).filter((f) => f.startsWith('cnn-oracle-'));
  it('SIGTERM to grade and SIGINT to grade-all (under a terminal: the cursor comes back)', async () => {
    const d = tmp('signal-');
    writeFileSync(join(d, 'loop.mjs'), 'export function relu() { for (;;); }\n');
    writeFileSync(join(d, 'a.json'), JSON.stringify({ name: 's', timeLimitMs: 60000, tests: [{ op: 'relu', random: 1 }] }));
    chmodSync(join(d, 'a.json'), 0o600);
    const child = spawn(process.execPath, [CLI, 'grade', join(d, 'loop.mjs'), '--assignment', join(d, 'a.json'), '--format', 'json', '--out', join(d, 'r.json')], { stdio: 'ignore', env: { ...process.env, TMPDIR: own } });
    await until(() => existsSync(join(d, 'r.json'))); // grading under way: its provisional result is on disk
    await until(() => sandboxDirs().some((f) => f.startsWith('cnn-oracle-sandbox-')));
    expect(sandboxDirs().some((f) => f.startsWith('cnn-oracle-sandbox-'))).toBe(true); // (the premise of the checks below: the sandbox's folders are where they are looked for)
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(143);
    expect(JSON.parse(readFileSync(join(d, 'r.json'), 'utf8')).graderErrors).toEqual(['grading was interrupted (SIGTERM)']);
    await new Promise((r) => setTimeout(r, 500));
    expect(sandboxProcs()).toBe(0);
    expect(sandboxDirs()).toEqual([]);
    // grade-all under a pseudo-terminal (script), so that the progress bar hides the cursor
    const cls = join(d, 'class');
    mkdirSync(cls);
    for (const s of ['ada', 'bob', 'cy']) writeFileSync(join(cls, `${s}.mjs`), 'export function relu() { for (;;); }\n');
    chmodSync(cls, 0o700);
    const cmd = `${process.execPath} ${CLI} grade-all ${cls} --assignment ${join(d, 'a.json')} --csv ${join(d, 'g.csv')}`;
    const term = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: own } });
    let seen = '';
    term.stdout.on('data', (b: Buffer) => (seen += b.toString()));
    await until(() => /elapsed \| ETA .* \| now: ada, bob/.test(seen));
    expect(seen).toMatch(/elapsed \| ETA .* \| now: ada, bob/);
    // Ctrl-C reaches the grader (not `script`, which would end the terminal first)
    const pids = spawnSync('pgrep', ['-f', `grade-all ${cls}`], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number).filter((p) => p && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node');
    for (const p of pids) process.kill(p, 'SIGINT');
    await new Promise((r) => term.once('exit', r));
    expect(seen).toContain('\x1b[?25h'); // the cursor is shown again
    expect(seen).toMatch(/interrupted \(SIGINT\)/);
    await new Promise((r) => setTimeout(r, 500));
    expect(sandboxProcs()).toBe(0);
    expect(sandboxDirs()).toEqual([]);
  });
});

describe('grade-all', () => {
  it('skips what is not a submission, refuses colliding names and unwritable outputs before grading, keeps what it graded', async () => {
    const d = tmp('all-');
    const cls = join(d, 'class');
    mkdirSync(cls);
    cpSync(join(JS, 'correct.js'), join(cls, 'ada.js'));
    writeFileSync(join(cls, 'README.md'), '# submissions\n');
    writeFileSync(join(cls, '.DS_Store'), '');
    writeFileSync(join(cls, 'notes.txt'), '');
    writeFileSync(join(cls, 'bob.mjs'), 'export const relu = ({ x }) => ({ shape: x.shape, data: x.data.map(() => 1) });\n');
    chmodSync(cls, 0o700);
    const a = join(d, 'a.json');
    writeFileSync(a, JSON.stringify({ name: 'all', tests: [{ op: 'relu', points: 2, cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }] }));
    chmodSync(a, 0o600);
    const r = await cli(['grade-all', cls, '--assignment', a, '--csv', join(d, 'g.csv')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped \.DS_Store \(hidden\)\nskipped README\.md \(a README\)\nskipped notes\.txt \(not a JS\/TS module, a folder or an answer sheet\)/);
    expect(readFileSync(join(d, 'g.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['student,score,max_score', 'ada,2,2', 'bob,0,2']);
    mkdirSync(join(cls, 'ada'));
    const clash = await cli(['grade-all', cls, '--assignment', a, '--csv', join(d, 'g2.csv')]);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/ada\/ and ada\.js would both be student ada: rename one/);
    expect(existsSync(join(d, 'g2.csv'))).toBe(false);
    rmdir(join(cls, 'ada'));
    const badReveal = await cli(['grade-all', cls, '--assignment', a, '--csv', join(d, 'g4.csv'), '--reveal', 'bogus']);
    expect([badReveal.status, badReveal.stderr]).toEqual([2, 'cnn-oracle: --reveal: "bogus" is not a visibility (visible, hidden, after_due_date, after_published)\n']); // one line, not a second "undefined"
    const noCsv = await cli(['grade-all', cls, '--assignment', a, '--csv', join(d, 'missing', 'dir', 'g.csv')]);
    expect(noCsv.status).toBe(2);
    expect(noCsv.stderr).toMatch(/cannot write .*missing\/dir\/g\.csv: ENOENT/);
    writeFileSync(join(d, 'file'), '');
    const noDir = await cli(['grade-all', cls, '--assignment', a, '--csv', join(d, 'g3.csv'), '--format', 'json', '--out-dir', join(d, 'file', 'sub')]);
    expect(noDir.status).toBe(2);
    expect(noDir.stderr).toMatch(/--out-dir .*file\/sub: cannot write there/);
  });
  it('counts the named mistakes of each student and across the class', async () => {
    const d = tmp('mistakes-');
    const cls = join(d, 'class');
    mkdirSync(cls);
    cpSync(TS, join(cls, 'ada'), { recursive: true });
    cpSync(TS, join(cls, 'bob'), { recursive: true });
    cpSync(join(JS, 'unbiased-bn.js'), join(cls, 'cy.js'));
    chmodSync(cls, 0o700);
    const r = await cli(['grade-all', cls, '--assignment', INTRO, '--csv', join(d, 'g.csv'), '--jobs', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/named mistakes across the class \(students\):\n {2}conv2d\/flipped-kernel: 2\n {2}batchNorm\/unbiased-variance: 1/);
    expect(readFileSync(join(d, 'g.csv'), 'utf8')).toMatch(/\nada,[\d.]+,12,.*,conv2d\/flipped-kernel \(\d+\),graded/);
  });
});

function rmdir(p: string) {
  spawnSync('rm', ['-rf', p]);
}

describe('GitHub Classroom', () => {
  it('--fail-under sets the exit status on the score; --github-output writes the points Classroom reads', async () => {
    const d = tmp('classroom-');
    const gh = join(d, 'github-output');
    writeFileSync(gh, '');
    const r = await cli(['grade', TS, '--student', 'ada', '--assignment', INTRO, '--format', 'classroom', '--github-output', '--fail-under', '90', '--out', join(d, 'r.json')], { GITHUB_OUTPUT: gh });
    expect(r.status).toBe(3); // 9.091 / 12 is under 90 %
    const line = readFileSync(gh, 'utf8').trim();
    expect(line).toMatch(/^result=[A-Za-z0-9+/=]+$/);
    const res = JSON.parse(Buffer.from(line.slice('result='.length), 'base64').toString('utf8'));
    expect(classroomSchema(res)).toBe(true);
    expect(res.max_score).toBe(12);
    expect(res.tests.reduce((s: number, t: { score: number }) => s + t.score, 0)).toBeCloseTo(9.091, 3);
    expect((await cli(['grade', TS, '--student', 'ada', '--assignment', INTRO, '--format', 'classroom', '--fail-under', '50'])).status).toBe(0);
  });
});

describe('the HTML report', () => {
  it.runIf(existsSync('/usr/bin/chromium'))('draws every failing output, the worst plane labelled, a legend, and the worst element on the page', async () => {
    const d = tmp('html-');
    // wrong in one element of batchNorm's y and in its batchMean: two failing outputs
    writeFileSync(join(d, 'index.mjs'), `import { batchNorm as right } from './ok.mjs';\nexport function batchNorm(i, p) { const r = right(i, p); if (r.batchMean) { r.batchMean.data[0] += 1; r.y.data[r.y.data.length - 1] += 5; } return r; }\n`);
    cpSync(join(TS, '..', 'js', 'correct.js'), join(d, 'ok.mjs'));
    const a = parseAssignment({ name: 'html', tests: [{ op: 'batchNorm', cases: ['cnn-oracle:fixtures/normalization/batchNorm.jsonl'] }] }, ROOT);
    const r = await grade(jsSubmission(d), a);
    const failing = r.tests[0].cases.find((c) => !c.passed && c.got?.batchMean)!;
    const html = render(r, 'html', INSTRUCTOR_VIEW);
    const file = join(d, 'report.html');
    writeFileSync(file, html);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.goto('file://' + file);
      const section = page.locator(`section.case[data-case="${failing.id}"]`);
      expect(await section.locator('.output').evaluateAll((els) => els.map((e) => e.getAttribute('data-output')))).toEqual(['y', 'batchMean']);
      expect(await section.locator('.legend').count()).toBeGreaterThanOrEqual(2);
      expect(await section.locator('h3').first().textContent()).toMatch(/^y: (plane \(n=\d+, c=\d+\) of \d+|the whole tensor)/);
      const worst = section.locator('.output[data-output="y"] svg[aria-label^="got y"] rect.worst');
      await worst.scrollIntoViewIfNeeded();
      expect(await worst.isVisible()).toBe(true);
      const box = (await worst.boundingBox())!;
      const shot = await page.screenshot();
      expect(shot.length).toBeGreaterThan(1000);
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(1200);
      expect(await page.locator('pre').first().evaluate((e) => getComputedStyle(e).whiteSpace)).toBe('pre-wrap');
    } finally {
      await browser.close();
    }
  });
});

describe('exports: one container per submission', () => {
  const tarball = (() => {
    let t: string | undefined;
    return () => {
      if (!t) {
        const d = tmp('pack-');
        const name = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', d, ROOT], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!;
        t = join(d, name);
      }
      return t;
    };
  })();
  const exportIt = (platform: string, out: string, extra: string[] = []) => {
    const r = spawnSync(process.execPath, ['-e', `import('${join(ROOT, 'dist', 'src', 'grading', 'export.js')}').then((m) => m.exportTo('${platform}', { assignment: process.argv[1], out: process.argv[2], tarball: process.argv[3], ${extra.length ? `command: ${JSON.stringify(extra[0])}` : ''} }))`, INTRO, out, tarball()], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };
  it('gradescope: the zip’s setup.sh installs cnn-oracle; run_autograder grades a correct, a buggy and a non-loading submission', async () => {
    const root = tmp('gradescope-');
    const zip = join(root, 'autograder.zip');
    expect((await cli(['export', 'gradescope', INTRO, '-o', zip])).status).toBe(0); // the CLI packs this installation itself
    const A = join(root, 'autograder');
    mkdirSync(join(A, 'source'), { recursive: true });
    for (const [name, data] of Object.entries(unzipSync(readFileSync(zip)))) {
      mkdirSync(dirname(join(A, 'source', name)), { recursive: true });
      writeFileSync(join(A, 'source', name), data);
    }
    expect(Object.keys(unzipSync(readFileSync(zip))).sort()).toEqual(['assignment/assignment.json', 'cnn-oracle.tgz', 'run_autograder', 'setup.sh']);
    const env = { ...process.env, CNN_ORACLE_PLATFORM_ROOT: root, CNN_ORACLE_SKIP_SYSTEM_PACKAGES: '1' };
    const setup = spawnSync('bash', [join(A, 'source', 'setup.sh')], { encoding: 'utf8', env, timeout: 300000 });
    expect(setup.status, setup.stderr).toBe(0);
    const results = (submission: (dir: string) => void, user: number) => {
      spawnSync('rm', ['-rf', join(A, 'submission'), join(A, 'results')]);
      mkdirSync(join(A, 'submission'));
      submission(join(A, 'submission'));
      writeFileSync(join(A, 'submission_metadata.json'), JSON.stringify({ users: [{ id: user, email: `${user}@u`, name: 'S' }] }));
      const run = spawnSync('bash', [join(A, 'source', 'run_autograder')], { encoding: 'utf8', env, timeout: 120000 });
      expect(run.status, run.stderr).toBe(0);
      const r = JSON.parse(readFileSync(join(A, 'results', 'results.json'), 'utf8'));
      expect(gradescopeSchema(r), JSON.stringify(gradescopeSchema.errors)).toBe(true);
      return r;
    };
    const correct = results((d) => cpSync(join(JS, 'correct.js'), join(d, 'index.js')), 1);
    expect(correct.score).toBe(12);
    const buggy = results((d) => cpSync(TS, d, { recursive: true }), 2);
    expect(buggy.score).toBeGreaterThan(6);
    expect(buggy.score).toBeLessThan(12);
    expect(buggy.tests[0].output).toContain('Looks like: the kernel is flipped');
    const broken = results((d) => writeFileSync(join(d, 'index.js'), 'export const relu = ;\n'), 3);
    expect(broken.score).toBe(0);
    expect(broken.tests[0]).toMatchObject({ name: 'The submission could not be graded', visibility: 'visible' });
    expect(broken.tests[0].output).toMatch(/SyntaxError in index\.js, line 1/);
  });
  it('prairielearn: run.sh grades /grade/student into /grade/results/results.json', async () => {
    const root = tmp('prairielearn-');
    const out = join(root, 'export');
    exportIt('prairielearn', out, ['python3 student.py']);
    expect(readFileSync(join(out, 'image', 'Dockerfile'), 'utf8')).toMatch(/FROM node:20[\s\S]*bubblewrap python3 python3-numpy[\s\S]*npm install -g/);
    expect(JSON.parse(readFileSync(join(out, 'info.json'), 'utf8')).externalGradingOptions.entrypoint).toBe('/grade/serverFilesCourse/cnn-oracle/run.sh');
    const G = join(root, 'grade');
    cpSync(join(out, 'tests'), join(G, 'tests'), { recursive: true });
    cpSync(join(out, 'serverFilesCourse'), join(G, 'serverFilesCourse'), { recursive: true });
    mkdirSync(join(G, 'data'), { recursive: true });
    writeFileSync(join(G, 'data', 'data.json'), JSON.stringify({ variant_seed: 42 }));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'cnn-oracle'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
    chmodSync(bin + '/cnn-oracle', 0o755);
    const run = (student: (d: string) => void) => {
      spawnSync('rm', ['-rf', join(G, 'student'), join(G, 'results')]);
      mkdirSync(join(G, 'student'));
      student(join(G, 'student'));
      const r = spawnSync('bash', [join(G, 'serverFilesCourse', 'cnn-oracle', 'run.sh')], { encoding: 'utf8', env: { ...process.env, CNN_ORACLE_PLATFORM_ROOT: root, PATH: `${bin}:${process.env.PATH}` }, timeout: 120000 });
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(readFileSync(join(G, 'results', 'results.json'), 'utf8'));
      expect(prairielearnSchema(res), JSON.stringify(prairielearnSchema.errors)).toBe(true);
      return res;
    };
    expect(run((d) => cpSync(join(ROOT, 'examples', 'submissions', 'numpy', 'student.py'), join(d, 'student.py')))).toMatchObject({ gradable: true, score: 1 });
    const buggy = run((d) => writeFileSync(join(d, 'student.py'), readFileSync(join(ROOT, 'examples', 'submissions', 'numpy', 'student.py'), 'utf8').replace('if p["flip"]:', 'if not p["flip"]:')));
    expect(buggy.score).toBeLessThan(1);
    expect(JSON.stringify(buggy)).toContain('Looks like: the kernel is flipped');
    const broken = run((d) => writeFileSync(join(d, 'student.py'), 'import no_such_module\n'));
    expect(broken).toMatchObject({ gradable: false });
    expect(broken.format_errors.join(' ')).toMatch(/ModuleNotFoundError/);
  });
  it('classroom: the workflow grades with --github-output and hands the points to the reporter', async () => {
    const root = tmp('classroom-');
    exportIt('classroom', root);
    const wf = YAML.parse(readFileSync(join(root, '.github', 'workflows', 'classroom.yml'), 'utf8'));
    const steps = wf.jobs['run-autograding-tests'].steps as { id?: string; run?: string; uses?: string; env?: Record<string, string>; with?: Record<string, string> }[];
    const gradeStep = steps.find((s) => s.id === 'cnn-oracle')!;
    const reporter = steps.find((s) => s.uses?.startsWith('classroom-resources/autograding-grading-reporter'))!;
    expect(reporter.env!['CNN-ORACLE_RESULTS']).toBe('${{steps.cnn-oracle.outputs.result}}');
    expect(reporter.with!.runners).toBe('cnn-oracle');
    // run the grading step as GitHub Actions would, in a student's repository
    cpSync(join(JS, 'correct.js'), join(root, 'index.js'));
    const temp = tmp('runner-');
    const install = steps.find((s) => (s as { name?: string }).name === 'Install cnn-oracle')!;
    // prefer-offline: a runner starts with an empty npm cache anyway; here the cache holds every package, and npm need not ask the registry about each
    expect(spawnSync('bash', ['-c', install.run!], { cwd: root, env: { ...process.env, RUNNER_TEMP: temp, npm_config_prefer_offline: 'true' }, encoding: 'utf8', timeout: 300000 }).status).toBe(0);
    const gh = join(temp, 'out');
    writeFileSync(gh, '');
    const r = spawnSync('bash', ['-c', gradeStep.run!], { cwd: root, env: { ...process.env, RUNNER_TEMP: temp, GITHUB_OUTPUT: gh }, encoding: 'utf8', timeout: 120000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(Buffer.from(readFileSync(gh, 'utf8').trim().slice('result='.length), 'base64').toString('utf8'));
    expect(classroomSchema(res)).toBe(true);
    expect([res.tests.reduce((s: number, t: { score: number }) => s + t.score, 0), res.max_score]).toEqual([12, 12]);
  });
});
