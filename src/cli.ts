#!/usr/bin/env node
/**
 * The `cnn-oracle` command line. Every failure a user can cause ends in one line on standard
 * error and an exit status; no stack traces.
 */
import { Command, CommanderError, Option } from 'commander';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { checkRaw, encodeInputs, encodeOutputs, evaluateRaw, FileError, prepareCase, readCaseFile, type Backend } from './cases.js';
import { gradCheck } from './gradcheck.js';
import { assignmentSchema, collectCases, defaultAssignment, defaultAssignmentJSON, loadAssignment, VISIBILITIES, type Assignment, type Visibility } from './grading/assignment.js';
import { gradeAll, mistakeSummary } from './grading/batch.js';
import { gradeCommand, GRADE_EXIT, UsageError } from './grading/command.js';
import { closeAll } from './grading/process.js';
import { exportTo, PLATFORMS, type Platform } from './grading/export.js';
import { capabilities, chooseMode, uidBase } from './sandbox/capabilities.js';
import { AUDIENCES, FORMATS, type Audience, type Format } from './grading/report.js';
import { checkAnswer, feedbackLines, getExercise, loadBank, readAnswerFor, questionText, solutionText, titleText, variantFlags, type Exercise, type VariantChoice } from './exercises/bank.js';
import type { Reading } from './exercises/answers.js';
import { parseModel, summarize, summaryTable } from './exercises/summary.js';
import { loadTarget } from './conformance/targets.js';
import { reportHtml, reportText, runConformance } from './conformance/run.js';
import { allOps, backendOps, backendsOf, BACKENDS, getOp, kernelOf, paramsSchema, resolveParams, type FastBackend } from './registry.js';
import { schemaByName } from './schemas.js';
import { OracleError } from './errors.js';
import { stringify } from './tensor.js';
import { Rng } from './rng.js';
import { VERSION } from './version.js';
import { DEFAULT_BUDGET, setBudget } from './validate.js';

/** Exit statuses of eval/check/grade (cases.md, grading.md). */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function fail(message: string, code: number = EXIT.usage): never {
  process.stderr.write(`cnn-oracle: ${message}\n`);
  process.exit(code);
}

function openOut(file: string | undefined): { write: (s: string) => void; close: () => Promise<void> } {
  if (!file) return { write: (s) => void process.stdout.write(s), close: async () => {} };
  let stream: WriteStream;
  try {
    writeFileSync(file, '');
    stream = createWriteStream(file, { flags: 'a' });
  } catch (e) {
    fail(`cannot write ${file}: ${(e as Error).message}`);
  }
  // a write that fails later (a full disk, /dev/full) is the same usage error as one that fails at once
  stream.on('error', (e: NodeJS.ErrnoException) => fail(`cannot write ${file}: ${e.code === 'ENOSPC' ? 'no space left on device' : e.message}`));
  return { write: (s) => void stream.write(s), close: () => new Promise((r) => stream.end(r)) };
}

const backendOption = (what = 'which implementation runs the ops (see `cnn-oracle backends`)') =>
  new Option('-b, --backend <backend>', what).choices([...BACKENDS]).default('reference');
const expectedBackendOption = () =>
  backendOption('which backend computes the expected outputs: a float32 one (accelerated, simd) is faster on large cases, and each allowance then grows by its float32 bound');

function assignmentOrExit(file: string | undefined): Assignment {
  try {
    return file ? loadAssignment(file) : defaultAssignment();
  } catch (e) {
    fail((e as Error).message);
  }
}

/** Writes a command's result to --out, or to standard output. */
function emit(text: string, out: string | undefined): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

function exerciseOrExit(id: string): Exercise {
  return orExit(() => getExercise(id));
}

/** The value, or the error's message on standard error and exit 2 (an unreadable answer, a bad variant). */
function orExit<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    fail((e as Error).message);
  }
}

function revealOrExit(v: string[] | undefined): Visibility[] {
  for (const x of v ?? []) if (!(VISIBILITIES as readonly string[]).includes(x)) fail(`--reveal: ${JSON.stringify(x)} is not a visibility (${VISIBILITIES.join(', ')})`);
  return (v ?? []) as Visibility[];
}

function loadOrExit(file: string) {
  try {
    return readCaseFile(file);
  } catch (e) {
    if (e instanceof FileError) fail(e.message);
    throw e;
  }
}

const positiveInt = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('cnn-oracle')
    .description('Exact reference operators for CNNs: evaluate and check cases against them.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .addOption(new Option('--max-elements <n>', `the most values one output may have (default ${DEFAULT_BUDGET.maxElements}; env CNN_ORACLE_MAX_ELEMENTS)`).argParser(positiveInt('--max-elements')))
    .addOption(new Option('--max-work <n>', `the most inner-loop steps one case may take (default ${DEFAULT_BUDGET.maxWork}; env CNN_ORACLE_MAX_WORK)`).argParser(positiveInt('--max-work')))
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ maxElements?: number; maxWork?: number }>();
      setBudget({ ...(o.maxElements ? { maxElements: o.maxElements } : {}), ...(o.maxWork ? { maxWork: o.maxWork } : {}) });
    });

  program
    .command('eval')
    .description('run each case on a backend and print one JSON line of outputs per case')
    .argument('<files...>', 'case files: a case, an array of cases, or JSON Lines; - for standard input')
    .addOption(backendOption())
    .option('-o, --out <file>', 'write the JSON Lines there instead of standard output')
    .action(async (files: string[], opts: { backend: Backend; out?: string }) => {
      const cases = files.flatMap(loadOrExit);
      const out = openOut(opts.out);
      let errors = 0;
      for (const rc of cases) {
        const { result } = await evaluateRaw(rc, opts.backend);
        if (result.error) errors++;
        out.write(stringify(result) + '\n');
      }
      await out.close();
      process.exitCode = errors ? EXIT.failed : EXIT.ok;
    });

  program
    .command('check')
    .description('run each case and compare with its expected outputs; exit 0 only when all pass')
    .argument('<files...>', 'case files: a case, an array of cases, or JSON Lines; - for standard input')
    .addOption(backendOption())
    .addOption(new Option('-p, --precision <precision>', 'the precision the expected values are judged at (allowances and ambiguous decisions); default float64 on the reference, float32 on a fast backend').choices(['float32', 'float64']))
    .option('-q, --quiet', 'print only failures and the summary')
    .action(async (files: string[], opts: { backend: Backend; precision?: 'float32' | 'float64'; quiet?: boolean }) => {
      const cases = files.flatMap(loadOrExit);
      let passed = 0;
      let failed = 0;
      for (const rc of cases) {
        const r = await checkRaw(rc, opts.backend, opts.precision);
        if (r.ok) {
          passed++;
          if (!opts.quiet) process.stdout.write(`PASS ${r.id} (${r.op})${r.ambiguous ? ` — ${r.ambiguous}` : ''}\n`);
        } else {
          failed++;
          const [first, ...rest] = (r.message ?? '').split('\n');
          process.stdout.write(`FAIL ${r.id} (${r.op}): ${first}\n${rest.map((l) => '     ' + l + '\n').join('')}`);
        }
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      process.exitCode = failed ? EXIT.failed : EXIT.ok;
    });

  program
    .command('gradcheck')
    .description('check backward cases against central differences of the forward reference')
    .argument('<files...>', 'case files of backward ops (inputs include dy); - for standard input')
    .option('--tol <x>', 'largest relative error that passes', '1e-5')
    .action((files: string[], opts: { tol: string }) => {
      const tol = Number(opts.tol);
      if (!(tol > 0)) fail(`--tol must be a positive number, got ${JSON.stringify(opts.tol)}`);
      let passed = 0;
      let failed = 0;
      for (const rc of files.flatMap(loadOrExit)) {
        try {
          if (rc.error) throw rc.error;
          const c = prepareCase(rc.value, rc.index);
          if (!c.op.backward) throw new OracleError('INVALID_CASE', `${c.op.name} is not a backward op (try ${c.op.name}Backward)`, '/op');
          const entries = gradCheck(c.op, c.inputs, c.params);
          const bad = entries.filter((e) => e.maxRelError > tol);
          const words = entries.map((e) => `${e.output} ${e.maxRelError.toExponential(1)}${e.kinks ? ` (${e.kinks} kink${e.kinks > 1 ? 's' : ''} skipped)` : ''}`).join(', ');
          if (bad.length) {
            failed++;
            const e = bad[0];
            process.stdout.write(`FAIL ${c.id}: ${e.output} relative error ${e.maxRelError.toExponential(2)} at (${e.index.join(', ')}): analytic ${e.analytic}, numeric ${e.numeric}\n`);
          } else {
            passed++;
            process.stdout.write(`PASS ${c.id}: ${words}\n`);
          }
        } catch (e) {
          failed++;
          const err = e instanceof OracleError ? e : new OracleError('INTERNAL', String((e as Error).message));
          process.stdout.write(`FAIL ${rc.where}: error ${err.code}${err.path ? ' at ' + err.path : ''}: ${err.message}\n`);
        }
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      process.exitCode = failed ? EXIT.failed : EXIT.ok;
    });

  program
    .command('grade')
    .description('grade a submission (JS/TS module, any program with --command, or an exercise answer sheet) against an assignment')
    .argument('[submission]', 'a .js/.ts/.mjs file or a folder (package.json main or index.*); an exercise answer sheet (.json); the working folder with --command')
    .option('-a, --assignment <file>', 'assignment file (default: the built-in assignment of every op; for a sheet, every exercise)')
    .option('-c, --command <cmd>', 'run this program and talk the line protocol to it (any language)')
    .option('--adapter <file>', 'instructor adapter module mapping catalogue calls onto the student’s functions')
    .option('--allow-read <path...>', 'more files or folders the submission may read, at their own paths (its own copy always)')
    .option('--unsafe-no-sandbox', 'where no sandbox is available, run the submission with the grader’s own rights (only for code you trust)')
    .option('-s, --student <id>', 'student id: seeds the random cases and picks exercise variants (default: from Gradescope’s or PrairieLearn’s metadata, else "student")')
    .addOption(new Option('-f, --format <format>', 'results format').choices([...FORMATS]).default('text'))
    .option('-o, --out <file>', 'write the results there (atomically) instead of standard output')
    .addOption(new Option('--audience <who>', 'who reads the results: a student sees nothing of tests not visible yet').choices([...AUDIENCES]).default('student'))
    .option('--reveal <visibility...>', 'visibilities that count as visible now (after_due_date, after_published, hidden)')
    .option('--fail-under <percent>', 'exit 3 when the score is below this percentage of the points (GitHub Classroom, CI)')
    .option('--github-output', 'also append GitHub Classroom’s runner result (result=<base64>) to $GITHUB_OUTPUT')
    .addOption(expectedBackendOption())
    .action(async (submission: string | undefined, opts: { assignment?: string; command?: string; adapter?: string; allowRead?: string[]; unsafeNoSandbox?: boolean; student?: string; format: Format; out?: string; backend: Backend; audience: Audience; reveal?: string[]; failUnder?: string; githubOutput?: boolean }) => {
      const failUnder = opts.failUnder === undefined ? undefined : Number(opts.failUnder);
      if (failUnder !== undefined && !(failUnder >= 0 && failUnder <= 100)) fail(`--fail-under must be a percentage from 0 to 100, got ${JSON.stringify(opts.failUnder)}`);
      const reveal = revealOrExit(opts.reveal);
      let run;
      try {
        run = await gradeCommand(submission, { ...opts, failUnder, view: { audience: opts.audience, reveal } });
      } catch (e) {
        if (e instanceof UsageError) fail(e.message);
        throw e;
      }
      if (!opts.out) process.stdout.write(run.text);
      if (run.exit === GRADE_EXIT.usage || run.exit === GRADE_EXIT.graderFailed) for (const e of run.result.graderErrors) process.stderr.write(`cnn-oracle: ${e}\n`);
      process.exitCode = run.exit;
    });

  program
    .command('sandbox')
    .description('say how this machine contains submissions: the sandbox mode grading would use, and why not a better one')
    .option('--json', 'machine-readable')
    .action((opts: { json?: boolean }) => {
      const caps = capabilities();
      let mode: string;
      try {
        mode = chooseMode();
      } catch (e) {
        fail((e as Error).message);
      }
      if (opts.json) return void process.stdout.write(JSON.stringify({ mode, ...caps }, null, 2) + '\n');
      const what: Record<string, string> = {
        bwrap: 'bubblewrap: own mount, PID, network and user namespaces; a non-root uid without capabilities' + (caps.root ? ', and a dedicated unprivileged uid on the host' : ''),
        uid: `a dedicated unprivileged uid (from ${uidBase()}), the grader's files checked unreadable to it` + (caps.netns ? ', no network' : ', WITH network access (the container must cut it off)'),
        none: 'NONE: grading refuses to run submissions unless --unsafe-no-sandbox is given',
      };
      process.stdout.write(`sandbox: ${mode} — ${what[mode]}\n`);
      for (const n of caps.notes) process.stdout.write(`  note: ${n}\n`);
      process.stdout.write('limits (per assignment): time per case, start-up budget, memory of all processes together, tasks, file size; see the README, Isolation\n');
    });

  program
    .command('grade-all')
    .description('grade every submission in a folder (one entry per student), in parallel, into a CSV gradebook')
    .argument('<dir>', 'folder of submissions: each file or sub-folder is one student')
    .option('-a, --assignment <file>', 'assignment file (default: the built-in assignment)')
    .requiredOption('--csv <file>', 'gradebook to write')
    .option('-j, --jobs <n>', 'submissions graded at once', '2')
    .option('-c, --command <cmd>', 'run this program in each submission folder (any language)')
    .option('--adapter <file>', 'instructor adapter module')
    .option('--allow-read <path...>', 'more files or folders the submissions may read, at their own paths')
    .option('--unsafe-no-sandbox', 'where no sandbox is available, run the submissions with the grader’s own rights (only for code you trust)')
    .addOption(new Option('-f, --format <format>', 'also write each student’s results in this format').choices([...FORMATS]))
    .option('--out-dir <dir>', 'folder for the per-student results (with --format)')
    .addOption(new Option('--audience <who>', 'who reads the per-student results').choices([...AUDIENCES]).default('instructor'))
    .option('--reveal <visibility...>', 'visibilities that count as visible now (with --audience student)')
    .addOption(expectedBackendOption())
    .action(async (dir: string, opts: { assignment?: string; csv: string; jobs: string; command?: string; adapter?: string; allowRead?: string[]; unsafeNoSandbox?: boolean; format?: Format; outDir?: string; backend: Backend; audience: Audience; reveal?: string[] }) => {
      const a = assignmentOrExit(opts.assignment);
      const jobs = Number(opts.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) fail(`--jobs must be an integer from 1 to 64, got ${JSON.stringify(opts.jobs)}`);
      if (opts.format && !opts.outDir) fail('--format needs --out-dir');
      if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`${dir}: not a folder`);
      const stop = (signal: NodeJS.Signals) => {
        closeAll();
        if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n');
        process.stderr.write(`cnn-oracle: interrupted (${signal}); the gradebook ${opts.csv} holds the students graded so far\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let run;
      try {
        run = await gradeAll(dir, a, { jobs, command: opts.command, adapter: opts.adapter && resolvePath(opts.adapter), readable: opts.allowRead?.map((p) => resolvePath(p)), format: opts.format, outDir: opts.outDir, csv: opts.csv, progress: process.stderr.isTTY ? true : false, backend: opts.backend, unsafeNoSandbox: opts.unsafeNoSandbox, view: { audience: opts.audience, reveal: revealOrExit(opts.reveal) }, resultsDirs: [dirname(resolvePath(opts.csv)), ...(opts.outDir ? [resolvePath(opts.outDir)] : [])] });
      } catch (e) {
        fail((e as Error).message);
      }
      const { rows, skipped } = run;
      const failed = rows.filter((r) => r.error || !r.result?.gradable).length;
      for (const s of skipped) process.stderr.write(`skipped ${s}\n`);
      process.stderr.write(`graded ${rows.length - failed} of ${rows.length} submissions; gradebook: ${opts.csv}\n`);
      for (const r of rows) if (r.error) process.stderr.write(`  ${r.student}: ${r.error}\n`);
      else if (!r.result!.gradable) process.stderr.write(`  ${r.student}: not gradable: ${[...r.result!.formatErrors, ...r.result!.graderErrors].join('; ')}\n`);
      const mistakes = mistakeSummary(rows);
      if (mistakes.length) process.stderr.write(`named mistakes across the class (students):\n${mistakes.map(([id, n]) => `  ${id}: ${n}`).join('\n')}\n`);
      process.exitCode = rows.some((r) => r.error || r.result?.graderErrors.length) ? EXIT.failed : EXIT.ok;
    });

  program
    .command('export')
    .description('write what a platform needs to grade with cnn-oracle, one container per submission: a Gradescope autograder zip, PrairieLearn external-grader files, a GitHub Classroom workflow')
    .argument('<platform>', PLATFORMS.join(', '))
    .argument('<assignment>', 'the assignment file (its case files go along)')
    .requiredOption('-o, --out <path>', 'the zip (gradescope) or folder (prairielearn, classroom) to write')
    .option('-c, --command <cmd>', 'how each submission runs (any language), as in grade --command')
    .option('--adapter <file>', 'instructor adapter module')
    .action((platform: string, assignment: string, opts: { out: string; command?: string; adapter?: string }) => {
      if (!(PLATFORMS as readonly string[]).includes(platform)) fail(`unknown platform ${JSON.stringify(platform)} (${PLATFORMS.join(', ')})`);
      try {
        loadAssignment(assignment);
        const files = exportTo(platform as Platform, { assignment, out: opts.out, command: opts.command, adapter: opts.adapter });
        process.stdout.write(`${opts.out}: ${files.length} files for ${platform} (${files.filter((f) => !f.includes('/cases/') && !f.startsWith('cases/')).join(', ')}${files.some((f) => /(^|\/)cases\//.test(f)) ? ', and the case files' : ''})\n`);
      } catch (e) {
        fail((e as Error).message);
      }
    });

  program
    .command('assignment')
    .description('print the built-in assignment, the assignment JSON Schema, or check an assignment file')
    .argument('[file]', 'an assignment file to check')
    .option('--default', 'print the built-in assignment (every op)')
    .option('--schema', 'print the JSON Schema of assignment files')
    .action(async (file: string | undefined, opts: { default?: boolean; schema?: boolean }) => {
      if (opts.schema) return void process.stdout.write(JSON.stringify(assignmentSchema, null, 2) + '\n');
      if (opts.default || !file) return void process.stdout.write(JSON.stringify(defaultAssignmentJSON(), null, 2) + '\n');
      const a = assignmentOrExit(file);
      let cases = 0;
      try {
        for (const t of a.tests) cases += (await collectCases(a, t, 'check')).length;
      } catch (e) {
        fail((e as Error).message);
      }
      process.stdout.write(`${file}: ${a.tests.length} tests, ${a.tests.reduce((s, t) => s + t.points, 0)} points, ${cases} cases for one student\n`);
    });

  const exercise = program.command('exercise').description('the worked exercises of the course notes: list, show, check an answer, solve');
  const variantOpts = (c: Command) => c.option('--seed <s>', 'a numbered variant (0: the notes’ own numbers)').option('--student <id>', 'this student’s variant');
  exercise
    .command('list')
    .description('list the exercises')
    .option('--json', 'machine-readable')
    .action((opts: { json?: boolean }) => {
      const bank = loadBank();
      if (opts.json) return void process.stdout.write(JSON.stringify(bank.map((e) => ({ id: e.id, kind: e.kind, title: titleText(e), source: e.source, ...(e.group ? { group: e.group } : {}) })), null, 2) + '\n');
      const w = Math.max(...bank.map((e) => e.id.length));
      for (const e of bank) process.stdout.write(`${e.id.padEnd(w)}  ${titleText(e)}\n`);
    });
  variantOpts(exercise.command('show').description('print the question (variant 0, or a seed / student variant)').argument('<id>', 'exercise id')).action((id: string, opts: VariantChoice) => {
    const e = exerciseOrExit(id);
    process.stdout.write(`${e.id}: ${orExit(() => titleText(e, opts))}\n\n${orExit(() => questionText(e, opts))}\n`);
  });
  variantOpts(
    exercise
      .command('check')
      .description('say whether an answer is right; name the likely mistake, or what to look at, when it is wrong')
      .argument('<id>', 'exercise id')
      .requiredOption('-a, --answer <value>', 'the answer (5, 32x32x10, [1, 2], none, …) or a JSON file holding it'),
  ).action((id: string, opts: VariantChoice & { answer: string }) => {
    const e = exerciseOrExit(id);
    const reading: Reading = orExit(() => (existsSync(opts.answer) && statSync(opts.answer).isFile() ? { value: JSON.parse(readFileSync(opts.answer, 'utf8')), notes: [] } : readAnswerFor(e, opts, opts.answer)));
    const r = orExit(() => checkAnswer(e, opts, reading.value, reading));
    const lines = [`${r.correct ? 'right' : 'wrong'}: ${e.id}`, ...feedbackLines(r).map((l) => `  ${l}`)];
    if (!r.correct) lines.push(`  (tolerance: ${r.tolerance}; \`cnn-oracle exercise solve ${e.id}${variantFlags(opts)}\` works it out)`);
    process.stdout.write(lines.join('\n') + '\n');
    process.exitCode = r.correct ? EXIT.ok : EXIT.failed;
  });
  variantOpts(exercise.command('solve').description('print the worked solution step by step').argument('<id>', 'exercise id')).action((id: string, opts: VariantChoice) => {
    const e = exerciseOrExit(id);
    const steps = orExit(() => solutionText(e, opts));
    process.stdout.write(`${e.id}: ${titleText(e, opts)}\n\n${questionText(e, opts)}\n\n${steps.map((l, i) => `${i + 1}. ${l}`).join('\n')}\n`);
  });

  variantOpts(
    exercise
      .command('sheet')
      .description('a sheet of the exercises (a student’s variants): text to print, or an HTML page that checks answers in the browser without holding them')
      .addOption(new Option('-f, --format <format>', 'text: the questions; html: the self-checking page').choices(['text', 'html']).default('text'))
      .option('-e, --exercises <ids>', 'comma-separated exercise ids (default: the whole bank)')
      .option('-o, --out <file>', 'write the sheet there instead of standard output'),
  ).action(async (opts: VariantChoice & { format: 'text' | 'html'; exercises?: string; out?: string }) => {
    const ids = opts.exercises?.split(',').map((x) => x.trim()).filter(Boolean);
    for (const id of ids ?? []) exerciseOrExit(id);
    const { sheetHtml, sheetText } = await import('./exercises/sheet.js');
    const v: VariantChoice = { seed: opts.seed, student: opts.student };
    emit(opts.format === 'html' ? await sheetHtml(v, variantFlags(v), ids) : sheetText(v, ids), opts.out);
  });

  program
    .command('summary')
    .description('per-layer table of a model (sequential, or with residual adds and concatenated branches): output shape, activations, parameters, MACs, receptive field')
    .argument('<model>', 'model JSON (exercises/models/vgg16.json, alexnet.json, resnet18.json, …)')
    .option('--json', 'machine-readable')
    .action((file: string, opts: { json?: boolean }) => {
      const text = orExit(() => {
        try {
          const model = parseModel(JSON.parse(readFileSync(file, 'utf8')));
          return opts.json ? JSON.stringify(summarize(model), null, 2) + '\n' : summaryTable(model);
        } catch (e) {
          throw new Error(`${file}: ${(e as Error).message}`);
        }
      });
      process.stdout.write(text);
    });

  program
    .command('conformance')
    .description('regression-test another CNN library (or our own accelerated or simd backend) against the exact reference')
    .requiredOption('-t, --target <name|file>', `a built-in target (accelerated, simd, tfjs-cpu, tfjs-wasm, onnxruntime, convnetjs) or an adapter module`)
    .option('--ops <list>', 'comma-separated ops (default: every op the target supports)')
    .option('-n, --random <n>', 'seeded random cases per op', '6')
    .option('-s, --seed <seed>', 'seed of the random cases', '0')
    .option('--no-shrink', 'do not shrink failing cases')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json', 'markdown', 'html']).default('text'))
    .option('-o, --out <file>', 'write the report there')
    .option('--reproducers <file>', 'write every failure’s reproducing case there, as JSON Lines (cnn-oracle check reads it)')
    .action(async (opts: { target: string; ops?: string; random: string; seed: string; shrink: boolean; format: 'text' | 'json' | 'markdown' | 'html'; out?: string; reproducers?: string }) => {
      const n = Number(opts.random);
      if (!Number.isInteger(n) || n < 0) fail(`--random must be a non-negative integer, got ${JSON.stringify(opts.random)}`);
      let target;
      try {
        target = await loadTarget(opts.target);
      } catch (e) {
        fail((e as Error).message);
      }
      const ops = opts.ops?.split(',').map((x) => x.trim()).filter(Boolean);
      for (const o of ops ?? []) if (!target.ops[o]) fail(`target ${target.name} does not implement ${o} (it has: ${Object.keys(target.ops).join(', ')})`);
      const report = await runConformance(target, { ops, random: n, seed: opts.seed, shrink: opts.shrink });
      const text = opts.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : opts.format === 'html' ? reportHtml(report) : reportText(report, opts.format === 'markdown');
      emit(text, opts.out);
      if (opts.reproducers) writeFileSync(opts.reproducers, report.failures.filter((f) => f.reproducer).map((f) => stringify(f.reproducer) + '\n').join(''));
      process.exitCode = report.failures.length ? EXIT.failed : EXIT.ok; // a CI gate: 0 all pass, 1 some case fails, 2 bad usage
    });

  program
    .command('backends')
    .description('say which backends run the ops: the exact reference, the gpu.js kernels (and the mode gpu.js chose), the WebAssembly SIMD kernels')
    .option('--json', 'machine-readable')
    .action(async (opts: { json?: boolean }) => {
      const { backendInfo } = await import('../kernels/backend.js');
      const { simdInfo } = await import('../kernels/simd/engine.js');
      const info = backendInfo();
      const simd = await simdInfo();
      const opsOf = (b: FastBackend) => backendOps(b);
      if (opts.json) {
        const out = { reference: { precision: 'float64', exact: true }, accelerated: { ...info, ops: opsOf('accelerated') }, simd: { ...simd, ops: opsOf('simd') } };
        return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      }
      process.stdout.write(
        [
          'reference    exact float64 (every op)',
          `accelerated  gpu.js ${info.gpuJs}, mode "${info.mode}", ran as ${info.kernelClass} (float32)`,
          `             headless-gl ${info.headlessGL ? 'available' : 'not available'}${info.display ? ` (DISPLAY=${info.display})` : ' (no DISPLAY)'}, WebAssembly ${info.webAssembly ? 'available' : 'not available'}`,
          `             ops: ${opsOf('accelerated').join(', ')}`,
          `simd         ${simd.engine}, ${simd.microKernel} register-blocked micro-kernel, ${simd.threads} thread${simd.threads > 1 ? 's' : ''} (float32)`,
          `             ops: ${opsOf('simd').join(', ')}`,
        ].join('\n') + '\n',
      );
    });

  program
    .command('ops')
    .description('list the op catalogue, or describe one op')
    .argument('[op]', 'an op name')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, opts: { json?: boolean }) => {
      if (name) {
        const op = getOp(name);
        if (opts.json) {
          process.stdout.write(
            stringify({ name: op.name, family: op.family, summary: op.summary, inputs: op.inputs, params: paramsSchema(op), outputs: op.outputs, accelerated: !!kernelOf(op, 'accelerated'), backends: backendsOf(op) }) + '\n',
          );
          return;
        }
        const lines = [`${op.name} — ${op.summary}`, '', 'inputs:'];
        for (const i of op.inputs) lines.push(`  ${i.name}${i.optional ? '?' : ''}  ${i.doc}${i.kind === 'index' ? ' (int64)' : ''}`);
        lines.push('params:');
        if (!op.params.length) lines.push('  (none)');
        for (const p of op.params) {
          const d = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : p.optional ? ' (optional)' : ' (required)';
          lines.push(`  ${p.name}${d}  ${p.doc}`);
        }
        lines.push('outputs:');
        for (const o of op.outputs) lines.push(`  ${o.name}${o.dtype === 'int64' ? ' (int64)' : ''}  ${o.doc}`);
        lines.push(`backends: ${backendsOf(op).join(', ')}`);
        process.stdout.write(lines.join('\n') + '\n');
        return;
      }
      const ops = allOps();
      if (opts.json) {
        process.stdout.write(stringify(ops.map((o) => ({ name: o.name, family: o.family, summary: o.summary }))) + '\n');
        return;
      }
      const width = Math.max(...ops.map((o) => o.name.length));
      let family = '';
      for (const o of ops) {
        if (o.family !== family) {
          family = o.family;
          process.stdout.write(`${family}:\n`);
        }
        process.stdout.write(`  ${o.name.padEnd(width)}  ${o.summary}\n`);
      }
    });

  program
    .command('schema')
    .description('print a JSON Schema: tensor, case, eval-result, or the params of an op')
    .argument('<name>', 'tensor | case | eval-result | OP')
    .action((name: string) => {
      process.stdout.write(JSON.stringify(schemaByName(name), null, 2) + '\n');
    });

  program
    .command('generate')
    .description('print seeded random cases of an op (inputs and params, no expected) as JSON Lines')
    .argument('<op>', 'an op name')
    .option('-n, --count <n>', 'how many cases', '5')
    .option('-s, --seed <seed>', 'seed (number or text)', '0')
    .option('--expected', 'include the reference outputs as expected')
    .action((name: string, opts: { count: string; seed: string; expected?: boolean }) => {
      const op = getOp(name);
      if (!op.generate) fail(`${op.name} has no case generator`);
      const n = Number(opts.count);
      if (!Number.isInteger(n) || n < 0) fail(`--count must be a non-negative integer, got ${JSON.stringify(opts.count)}`);
      const rng = new Rng(`${op.name}/${opts.seed}`);
      for (let k = 0; k < n; k++) {
        const g = op.generate(rng);
        const c: Record<string, unknown> = { id: `${op.name}/seed-${opts.seed}-${k}`, op: op.name, inputs: encodeInputs(op, g.inputs), params: g.params };
        if (opts.expected) c.expected = encodeOutputs(op, op.reference(g.inputs, resolveParams(op, g.params)));
        process.stdout.write(stringify(c) + '\n');
      }
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that goes away (`cnn-oracle eval … | head`) ends the run quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    fail(`cannot write to standard output: ${e.message}`, EXIT.failed);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (e instanceof OracleError) fail(e.message, EXIT.usage);
    fail(`internal error: ${e instanceof Error ? e.message : String(e)}`, EXIT.failed);
  }
}

await main(process.argv);
