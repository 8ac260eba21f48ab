/**
 * The grading sandbox against a battery of hostile submissions (tests/hostile/), in each sandbox
 * mode this machine offers: exact scores (the attack gained nothing and cost nothing else), and
 * containment (nothing secret in any result or log, no forged or missing results, the grader
 * alive, no process left behind).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { capabilities } from '../src/sandbox/capabilities.js';

vi.setConfig({ testTimeout: 120000 });
// Each test grades in a uid range of its own (CNN_ORACLE_SANDBOX_UID), so that the tests can run at
// the same time and "no process left behind" counts only that test's processes: this file's range
// (60000–64095, apart from integrity.test.ts's) in slices of UIDS.
const FILE_UID = 60000 + 512 * Math.floor(Math.random() * 8);
const UIDS = 8;

const ROOT = join(__dirname, '..');
const HOSTILE = join(__dirname, 'hostile');
const caps = capabilities();
const MODES = [...(caps.best === 'bwrap' ? ['bwrap'] : []), ...(caps.root ? ['uid'] : [])] as const;
if (!MODES.length) console.warn('\n*** SANDBOX TESTS SKIPPED: neither bubblewrap nor root is available here ***\n');

const CANARY = `CANARY-${randomBytes(8).toString('hex')}`;
const MARK = 100 + Math.floor(Math.random() * 899);

/** What one test owns: its uid slice, a marker for processes it left to sleep, its results files. */
interface Box {
  uid: number;
  sleep: string;
  out: string;
  forged: string;
  dir: string;
}
let boxes = 0;
function box(): Box {
  const j = boxes++;
  const dir = join(S.results, `box-${j}`);
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  return { uid: FILE_UID + UIDS * j, sleep: `${9000 + j}.${MARK}`, out: join(dir, 'results.json'), forged: join(dir, 'forged.json'), dir };
}

interface Setup {
  /** A private copy of the package, as an installation the sandbox user cannot read. */
  pkg: string;
  course: string;
  results: string;
  work: string;
}
let S: Setup;

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'hostile-'));
  const pkg = join(base, 'pkg');
  mkdirSync(pkg);
  for (const d of ['dist', 'fixtures', 'exercises', 'clients']) cpSync(join(ROOT, d), join(pkg, d), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  const course = join(base, 'course');
  mkdirSync(join(course, 'hidden'), { recursive: true });
  writeFileSync(join(course, 'hidden', 'SECRET'), CANARY + '\n');
  const x = { shape: [2, 3], data: [1, -2, 3, -4, 5, 'NaN'] };
  const y = { shape: [2, 3], data: [1, 0, 3, 0, 5, 'NaN'] };
  writeFileSync(join(course, 'hidden', 'relu.jsonl'), JSON.stringify({ id: 'relu/hidden', op: 'relu', inputs: { x }, expected: { y } }) + '\n');
  writeFileSync(
    join(course, 'assignment.json'),
    JSON.stringify({ name: 'hostile', id: 'hostile', timeLimitMs: 3000, memoryLimitMb: 256, startupLimitMs: 10000, feedback: { showInputs: false, showExpected: false }, tests: [{ op: 'relu', points: 1, cases: ['hidden/relu.jsonl'], visibility: 'hidden' }, { op: 'conv2d', points: 1, random: 1 }] }),
  );
  const results = join(base, 'results');
  mkdirSync(results);
  chmodSync(results, 0o755);
  const work = join(base, 'work');
  mkdirSync(work);
  chmodSync(work, 0o755);
  // the installation and the course are the grader's alone
  spawnSync('chmod', ['-R', 'go-rwx', pkg, course]);
  chmodSync(base, 0o755);
  S = { pkg, course, results, work };
});

afterAll(() => {
  if (S) rmSync(join(S.pkg, '..'), { recursive: true, force: true });
});

const targets = (b: Box) => ({
  secrets: [join(S.course, 'hidden', 'SECRET'), join(S.course, 'hidden', 'relu.jsonl'), join(S.course, 'assignment.json'), join(S.pkg, 'fixtures', 'activation', 'relu.jsonl'), join(S.pkg, 'dist', 'src', 'grading', 'mistakes.js')],
  writes: [b.forged, join(S.course, 'assignment.json'), join(S.pkg, 'dist', 'src', 'index.js')],
  reference: join(S.pkg, 'dist', 'src', 'reference', 'conv.js'),
  index: join(S.pkg, 'dist', 'src', 'index.js'),
  out: b.out,
  sleepSeconds: b.sleep,
});

/** A submission folder: the hostile entry, its shared helper and the targets. */
function submission(b: Box, name: string, entry: string, files: string[]): string {
  const dir = mkdtempSync(join(S.work, `${name}-`));
  chmodSync(dir, 0o755);
  for (const f of files) copyFileSync(join(HOSTILE, f), join(dir, f));
  copyFileSync(join(HOSTILE, name), join(dir, entry));
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets(b)));
  return dir;
}

const left = (b: Box) =>
  spawnSync('ps', ['-eo', 'pid=,uid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => {
      const [, uid] = l.trim().split(/\s+/);
      return l.includes(b.sleep) || (Number(uid) >= b.uid && Number(uid) < b.uid + UIDS);
    });

/** No process of the test's sandbox uids, and none of the ones its submission left to sleep (zombies take a moment to be reaped). */
async function noneLeft(b: Box): Promise<void> {
  const deadline = Date.now() + 3000;
  while (left(b).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(left(b)).toEqual([]);
}

/** The CLI in a child process, without blocking this file's other tests (which run meanwhile). */
function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const c = spawn(process.execPath, [join(S.pkg, 'dist', 'src', 'cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 120000);
    c.on('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr });
    });
  });
}

interface Graded {
  status: number | null;
  result: { score: number; gradable: boolean; tests: { name: string; score: number; cases: { passed: boolean; rung?: string; message?: string; ms: number }[] }[]; isolation?: { sandbox: string; network: string }; log: string; graderErrors: string[] };
  raw: string;
  ms: number;
}

const envOf = (mode: string, b: Box) => ({ ...process.env, CNN_ORACLE_SANDBOX: mode, CNN_ORACLE_SANDBOX_UID: String(b.uid) });

async function gradeIt(mode: string, b: Box, sub: string, extra: string[] = [], assignment = join(S.course, 'assignment.json')): Promise<Graded> {
  const out = b.out;
  rmSync(out, { force: true });
  const t0 = Date.now();
  const r = await cliAsync(['grade', sub, '--assignment', assignment, '--format', 'json', '--audience', 'instructor', '--out', out, ...extra], envOf(mode, b));
  const ms = Date.now() - t0;
  const raw = readFileSync(out, 'utf8');
  for (const text of [raw, r.stdout, r.stderr]) {
    expect(text).not.toContain(CANARY.slice(7)); // nothing hidden leaked
    expect(text).not.toContain('FORGED');
    expect(text).not.toContain('export const MISTAKES');
  }
  // the forged results file was never written, and no process is left behind
  expect(existsSync(b.forged)).toBe(false);
  await noneLeft(b);
  return { status: r.status, result: JSON.parse(raw), raw, ms };
}

const test = (g: Graded, name: string) => g.result.tests.find((t) => t.name === name)!;

/** A mode's graders, each test with a box of its own. */
function hostile(mode: string) {
  const b = box();
  const js = (name: string) => submission(b, name, 'index.mjs', ['relu.mjs']);
  const py = (name: string) => submission(b, name, 'student.py', ['common.py']);
  const graded = (sub: string, kind: 'js' | 'py', extra: string[] = []) => gradeIt(mode, b, sub, kind === 'py' ? ['--command', 'python3 student.py', ...extra] : extra);
  return { b, js, py, graded, sub: (name: string, entry: string, files: string[]) => submission(b, name, entry, files) };
}

// The battery runs concurrently (each test waits on its grader's child processes, mostly idle);
// the two tests that measure time run on their own afterwards.
describe.concurrent.each(MODES)('the %s sandbox against hostile submissions', (mode) => {
  it('runs a correct operator and reports its isolation', async () => {
    const { js, graded } = hostile(mode);
    const g = await graded(js('kill-parent.mjs'), 'js');
    expect(g.status).toBe(0);
    expect(g.result.isolation?.sandbox).toBe(mode);
    expect(test(g, 'relu').score).toBe(1);
  });

  it.each([
    ['oracle-import.mjs', 'js', /no oracle/],
    ['hostile.ts', 'ts', /found \d+/],
    ['oracle.py', 'py', /found \d+/],
    ['escape.py', 'py', /umount/],
  ] as const)('%s cannot import or read the oracle, the fixtures, the assignment or the hidden cases', async (name, kind, why) => {
    const { b, py, sub: subOf, graded } = hostile(mode);
    const sub = kind === 'py' ? py(name) : subOf(name, kind === 'ts' ? 'index.ts' : 'index.mjs', ['relu.mjs']);
    const g = await graded(sub, kind === 'py' ? 'py' : 'js');
    expect(g.status).toBe(0);
    expect(g.result.score).toBe(1); // relu 1, conv2d 0
    const c = test(g, 'conv2d').cases[0];
    expect(c.message).toMatch(why);
    // not one of the grader's files was read or written, nor the package run
    for (const p of [...targets(b).secrets, ...targets(b).writes]) expect(c.message).not.toContain(`${p}: OK`);
    expect(c.message).not.toMatch(/node: OK b'.+'/);
    if (mode === 'bwrap') {
      // in its own mount namespace nothing outside its copy exists: no file found at all, no new
      // user namespace, mount or chroot (the uid mode leaves the machine's world-readable files readable)
      expect(c.message).not.toMatch(/(^|; |: )\/[^:;]*: OK /);
      expect(c.message).not.toMatch(/(unshare|umount \/tmp|mount proc|chroot): OK/);
    }
  });

  it('a submission that kills every process it can reach (and forges results) takes down only its own sandbox', async () => {
    const { js, py, graded } = hostile(mode);
    for (const g of [await graded(py('kill_grader.py'), 'py'), await graded(js('kill-parent.mjs'), 'js')]) {
      expect(g.status).toBe(0);
      expect(g.result.score).toBe(1); // its relu counted, its conv2d did not; the grader wrote the results
      expect(test(g, 'conv2d').score).toBe(0);
    }
  });

  it('fake results, forged answers with guessed ids and patched built-ins change nothing but its own answers', async () => {
    const { js, graded } = hostile(mode);
    const g = await graded(js('forger.mjs'), 'js');
    expect(g.result.score).toBe(1);
    expect(test(g, 'conv2d').cases[0].message).toMatch(/y has shape \[\], expected|did not return/);
  });

  it('symbolic links out of the submission are not copied into the sandbox', async () => {
    const { js, graded } = hostile(mode);
    const dir = js('oracle-import.mjs');
    symlinkSync(join(S.course, 'hidden', 'SECRET'), join(dir, 'leak'));
    symlinkSync('../../course/hidden', join(dir, 'leak-dir'));
    symlinkSync('relu.mjs', join(dir, 'inside.mjs')); // a link inside the submission is kept
    writeFileSync(join(dir, 'index.mjs'), `import { readFileSync } from 'node:fs';\nexport { relu } from './inside.mjs';\nexport function conv2d() { const r = []; for (const f of ['leak', 'leak-dir/SECRET']) { try { r.push(readFileSync(new URL(f, import.meta.url), 'utf8')); } catch (e) { r.push(e.code); } } throw new Error(r.join(' ')); }\n`);
    const g = await graded(dir, 'js');
    expect(g.result.score).toBe(1);
    expect(test(g, 'conv2d').cases[0].message).toMatch(/ENOENT ENOENT/);
    expect(g.raw).toMatch(/left out of the sandbox: leak \(a link to outside the submission\)/);
  });

  it('memory is limited for the whole sandbox: a process touching 400 MB, one taking 400 MB and freeing it before it answers, worker threads', async () => {
    const { js, py, graded } = hostile(mode);
    for (const g of [await graded(py('memory.py'), 'py'), await graded(py('burst.py'), 'py'), await graded(js('workers.mjs'), 'js')]) {
      expect(g.result.score).toBe(1);
      expect(test(g, 'conv2d').cases[0].message).toMatch(/memory/);
    }
  });

  it('640 MiB on standard output without a newline fails that case, and the grader goes on', async () => {
    const { js, graded } = hostile(mode);
    const g = await graded(js('flood.mjs'), 'js');
    expect(g.status).toBe(0);
    expect(g.result.score).toBe(1);
    expect(test(g, 'conv2d').cases[0].message).toMatch(/wrote more than [\d.]+ MiB on one line of standard output/);
  });

  it('endless chatter on standard error and standard output is bounded too', async () => {
    const { b, py } = hostile(mode);
    // a time limit long enough that the output bound comes first, however busy the machine
    const a = join(S.course, `chatter-${mode}.json`);
    writeFileSync(a, JSON.stringify({ ...JSON.parse(readFileSync(join(S.course, 'assignment.json'), 'utf8')), timeLimitMs: 60000 }));
    chmodSync(a, 0o600);
    const g = await gradeIt(mode, b, py('chatter.py'), ['--command', 'python3 student.py'], a);
    expect(g.result.score).toBe(1);
    expect(test(g, 'conv2d').cases[0].message).toMatch(/wrote more than 64\.0 MiB to standard (error|output)/);
    expect(g.result.log.length).toBeLessThan(80 * 1024);
  });

  it('a fork bomb stops at the task limit (or at the memory limit, when its children fill memory first)', async () => {
    const { py, graded } = hostile(mode);
    const g = await graded(py('forkbomb.py'), 'py');
    expect(g.result.score).toBe(1);
    expect(test(g, 'conv2d').cases[0].message).toMatch(/stopped after \d+ children|Resource temporarily unavailable|BlockingIOError|ran out of memory: used more than the memory limit/);
  });

  it('an input changed in place is caught by the grader, whatever the submission patched', async () => {
    const { js, graded } = hostile(mode);
    const g = await graded(js('mutate.mjs'), 'js');
    const relu = test(g, 'relu').cases[0];
    expect(relu.passed).toBe(false);
    expect(relu.rung).toBe('properties');
    expect(relu.message).toMatch(/changed its input x in place/);
  });

  it('grade-all: no student reads or writes another’s files (folders, and single files)', async () => {
    const { b } = hostile(mode);
    // the instructor's folder of submissions is the grader's alone (the uid mode checks it)
    const cls = mkdtempSync(join(S.work, 'class-'));
    const student = (name: string, code: string) => {
      mkdirSync(join(cls, name));
      writeFileSync(join(cls, name, 'student.py'), code);
    };
    const relu = 'import numpy as np\nfrom cnn_oracle import serve\nrelu = lambda i, p: np.where((i["x"] > 0) | np.isnan(i["x"]), i["x"], 0.0)\n';
    student('alice', `${relu}serve({"relu": relu})\n`);
    student('bob', `${relu}serve({"relu": relu})\n`);
    writeFileSync(join(cls, 'bob', 'notes.txt'), `bob's ${CANARY}`);
    student(
      'mallory',
      `${relu}import glob, os\ndef conv2d(i, p):\n    r = []\n    for f in glob.glob("../*/*") + glob.glob("/tmp/**/notes.txt", recursive=True) + glob.glob("${cls}/*/*"):\n        try: r.append(open(f).read())\n        except OSError as e: r.append(type(e).__name__)\n    for f in ["../bob/student.py", "${cls}/bob/student.py"]:\n        try: open(f, "w").write("raise SystemExit(1)")\n        except OSError as e: r.append("w " + type(e).__name__)\n    raise RuntimeError(str(r))\nserve({"relu": relu, "conv2d": conv2d})\n`,
    );
    const csv = join(b.dir, 'class.csv');
    const r = await cliAsync(['grade-all', cls, '--assignment', join(S.course, 'assignment.json'), '--command', 'python3 student.py', '--csv', csv, '--jobs', '2', '--format', 'json', '--out-dir', b.dir], envOf(mode, b));
    expect(r.status, r.stderr).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['alice,1,2', 'bob,1,2', 'mallory,1,2']);
    const mallory = readFileSync(join(b.dir, 'mallory.json'), 'utf8');
    expect(mallory).not.toContain(CANARY.slice(7));
    expect(readFileSync(join(cls, 'bob', 'student.py'), 'utf8')).toContain('serve({"relu": relu})');
    // single-file JS students: each gets its own file alone
    const js = mkdtempSync(join(S.work, 'jsclass-'));
    writeFileSync(join(js, 'carol.mjs'), `import { readFileSync } from 'node:fs';\nexport function relu() { return { shape: [1], data: [readFileSync(new URL('./dave.mjs', import.meta.url), 'utf8').length] }; }\n`);
    writeFileSync(join(js, 'dave.mjs'), `// dave's ${CANARY}\nexport const relu = ({ x }) => ({ shape: x.shape, data: Array.from(x.data, (v) => (v > 0 || v !== v ? v : 0)) });\n`);
    const r2 = await cliAsync(['grade-all', js, '--assignment', join(S.course, 'assignment.json'), '--csv', csv, '--format', 'json', '--out-dir', b.dir], envOf(mode, b));
    expect(r2.status, r2.stderr).toBe(0);
    const carol = JSON.parse(readFileSync(join(b.dir, 'carol.json'), 'utf8'));
    expect(carol.tests[0].cases[0].message).toMatch(/ENOENT/);
    expect(readFileSync(csv, 'utf8')).toMatch(/\ndave,1,2,/);
    await noneLeft(b);
  });
});

describe.each(MODES)('the %s sandbox against hostile submissions, on its own (timings)', (mode) => {
  it('a time limit is what it says, start-up apart, and a timed-out program (and its children) does not live on', async () => {
    const { b, py } = hostile(mode);
    const a = join(S.work, `spin-${mode}.json`);
    const raw = JSON.parse(readFileSync(join(ROOT, 'examples', 'assignments', 'intro.json'), 'utf8'));
    writeFileSync(a, JSON.stringify({ ...raw, timeLimitMs: 300, tests: [{ op: 'relu', points: 1, cases: ['cnn-oracle:fixtures/activation/relu.jsonl'] }, { op: 'conv2d', points: 1, random: 3 }] }));
    chmodSync(a, 0o600);
    const g = await gradeIt(mode, b, py('spin.py'), ['--command', 'python3 student.py'], a);
    const conv = test(g, 'conv2d').cases;
    expect(conv[0].message).toMatch(/timed out: no answer within the time limit of 300 ms/);
    expect(conv[0].ms).toBeGreaterThanOrEqual(300);
    expect(conv[0].ms).toBeLessThan(1000);
    expect(conv[0]).not.toHaveProperty('shrunk'); // a time-out is not shrunk: every try would cost a restart and a time limit
    expect(conv[2].message).toMatch(/not run: the two previous conv2d cases timed out/);
    expect(g.ms).toBeLessThan(15000);
  });

  it('a detached child holding standard output open does not keep the grader from exiting', async () => {
    const { py, graded } = hostile(mode);
    const g = await graded(py('sleeper.py'), 'py');
    expect(g.status).toBe(0);
    expect(g.result.score).toBe(1);
    expect(g.ms).toBeLessThan(20000);
  });
});

describe.runIf(caps.root)('the uid mode checks the grader’s files before it runs anything', () => {
  it('refuses (not gradable, exit 1) when the sandbox user could read the fixtures', () => {
    // an installation everyone can read, wherever this checkout lives (a checkout inside a private folder would not be)
    const pkg = mkdtempSync(join(tmpdir(), 'readable-pkg-'));
    for (const d of ['dist', 'fixtures', 'examples']) cpSync(join(ROOT, d), join(pkg, d), { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    spawnSync('chmod', ['-R', 'a+rX', pkg]);
    const r = spawnSync(process.execPath, [join(pkg, 'dist', 'src', 'cli.js'), 'grade', join(pkg, 'examples', 'submissions', 'js', 'correct.js'), '--assignment', join(pkg, 'examples', 'assignments', 'intro.json'), '--format', 'json'], { encoding: 'utf8', env: { ...process.env, CNN_ORACLE_SANDBOX: 'uid' } });
    rmSync(pkg, { recursive: true, force: true });
    expect(r.status).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.gradable).toBe(false);
    expect(res.graderErrors[0]).toMatch(/the sandbox user \(uid \d+\) could reach the grader's files: .*fixtures/);
  });
});

/** The checkout's CLI grading the correct JS example on the intro assignment in sandbox `mode`. */
const gradeCorrect = (mode: string, extra: string[], format = 'json') =>
  spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'grade', join(ROOT, 'examples', 'submissions', 'js', 'correct.js'), '--assignment', join(ROOT, 'examples', 'assignments', 'intro.json'), '--format', format, ...extra], { encoding: 'utf8', env: { ...process.env, CNN_ORACLE_SANDBOX: mode } });

describe.runIf(caps.root)('--allow-read paths are checked as the sandbox user before anything runs', () => {
  it.each(MODES)('%s: a path under a folder other users cannot search is a named error, not bwrap’s “Can’t find source path” in every case', (mode) => {
    const home = mkdtempSync(join(tmpdir(), 'private-home-')); // 0700, as a home folder
    mkdirSync(join(home, 'course'));
    writeFileSync(join(home, 'course', 'data.txt'), 'x');
    spawnSync('chmod', ['-R', 'a+rX', join(home, 'course')]);
    const graded = (p: string) => gradeCorrect(mode, ['--allow-read', p]);
    const r = graded(join(home, 'course', 'data.txt'));
    chmodSync(home, 0o755);
    const opened = graded(join(home, 'course', 'data.txt'));
    // a folder others may search but not list (0711) is mounted as it is: the submission opens the names it knows
    chmodSync(join(home, 'course'), 0o711);
    const searchable = graded(join(home, 'course'));
    // a file others cannot read, with a newline in its name (the check answers by argument number)
    const odd = join(home, 'course', 'se\ncret.txt');
    writeFileSync(odd, 'x', { mode: 0o600 });
    const unreadable = graded(odd);
    rmSync(home, { recursive: true, force: true });
    expect(r.status).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.gradable).toBe(false);
    expect(res.graderErrors).toEqual([expect.stringMatching(new RegExp(`^the sandbox user \\(uid \\d+\\) cannot reach --allow-read ${home}/course/data\\.txt: the folder ${home} above it is not searchable by other users`))]);
    // once the folder is searchable, the same path is no obstacle (the error was the folder's, not the file's)
    // (the uid mode may still refuse this checkout for another reason: its fixtures readable by all)
    const o = JSON.parse(opened.stdout);
    expect(o.graderErrors.filter((e: string) => e.includes('allow-read'))).toEqual([]);
    if (mode === 'bwrap') expect([o.gradable, o.score]).toEqual([true, 9]); // what a student sees: batchNorm's 3 points after the due date
    const s = JSON.parse(searchable.stdout);
    expect(s.graderErrors.filter((e: string) => e.includes('allow-read'))).toEqual([]);
    if (mode === 'bwrap') expect([s.gradable, s.score]).toEqual([true, 9]);
    expect(JSON.parse(unreadable.stdout).graderErrors.map((e: string) => e.replace(/uid \d+/, 'uid N'))).toEqual([`the sandbox user (uid N) cannot read --allow-read ${odd} (make it readable by other users, e.g. chmod -R o+rX ${odd})`]);
  });
});

describe('without a sandbox', () => {
  const run = (extra: string[], format = 'json') => gradeCorrect('none', extra, format);
  it('grading refuses loudly, in every format and in the exit status', () => {
    for (const format of ['text', 'json', 'gradescope', 'prairielearn', 'junit', 'html']) {
      const r = run([], format);
      expect(r.status, format).toBe(1);
      expect(r.stdout, format).toMatch(/no sandbox is available here, so the submission was not run/);
    }
  });
  it('--unsafe-no-sandbox grades, and says so in the results', () => {
    const r = run(['--unsafe-no-sandbox', '--audience', 'instructor']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.score).toBe(12);
    expect(res.isolation).toMatchObject({ sandbox: 'none', unsafe: true });
    expect(res.isolation.notes.join(' ')).toMatch(/NO SANDBOX/);
  });
});

describe('the runner holds no answers', () => {
  it('imports only Node built-ins, ndarray and its own folder', () => {
    const dir = join(ROOT, 'src', 'sandbox', 'runner');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)) {
        expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(node:|ndarray$|\.\/[a-z]+\.js$)/);
      }
    }
  });
});
