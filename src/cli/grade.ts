import { Option, type Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Backend } from '../cases.js';
import { AUDIENCES, FORMATS, type Audience, type Format } from '../grading/names.js';
import { EXIT, Exit, expectedBackendOption, type Ctx } from './context.js';

/** `grade`: one submission. */
export function register(program: Command, ctx: Ctx): void {
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
      if (failUnder !== undefined && !(failUnder >= 0 && failUnder <= 100)) ctx.fail(`--fail-under must be a percentage from 0 to 100, got ${JSON.stringify(opts.failUnder)}`);
      const reveal = ctx.revealOrExit(opts.reveal);
      const { gradeCommand, GRADE_EXIT, UsageError } = await import('../grading/command.js');
      let run;
      try {
        run = await gradeCommand(submission, { ...opts, failUnder, view: { audience: opts.audience, reveal } });
      } catch (e) {
        if (e instanceof UsageError) ctx.fail(e.message);
        throw e;
      }
      if (!opts.out) ctx.out(run.text);
      if (run.exit === GRADE_EXIT.usage || run.exit === GRADE_EXIT.graderFailed) for (const e of run.result.graderErrors) ctx.err(`cnn-oracle: ${e}\n`);
      ctx.exitCode = run.exit;
    });
}

/** `grade-all`: a folder of submissions into a gradebook. */
export function registerAll(program: Command, ctx: Ctx): void {
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
      const a = await ctx.assignmentOrExit(opts.assignment);
      const jobs = Number(opts.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) ctx.fail(`--jobs must be an integer from 1 to 64, got ${JSON.stringify(opts.jobs)}`);
      if (opts.format && !opts.outDir) ctx.fail('--format needs --out-dir');
      if (!existsSync(dir) || !statSync(dir).isDirectory()) ctx.fail(`${dir}: not a folder`);
      const reveal = ctx.revealOrExit(opts.reveal); // before the try below, whose catch reports a grader's error
      const { gradeAll, mistakeSummary } = await import('../grading/batch.js');
      const { closeAll } = await import('../grading/process.js');
      const stop = (signal: NodeJS.Signals) => {
        closeAll();
        if (ctx.io.isTTY) ctx.err('\x1b[?25h\n');
        ctx.err(`cnn-oracle: interrupted (${signal}); the gradebook ${opts.csv} holds the students graded so far\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let run;
      try {
        run = await gradeAll(dir, a, { jobs, command: opts.command, adapter: opts.adapter && resolvePath(opts.adapter), readable: opts.allowRead?.map((p) => resolvePath(p)), format: opts.format, outDir: opts.outDir, csv: opts.csv, progress: ctx.io.isTTY ? true : false, log: ctx.err, backend: opts.backend, unsafeNoSandbox: opts.unsafeNoSandbox, view: { audience: opts.audience, reveal }, resultsDirs: [dirname(resolvePath(opts.csv)), ...(opts.outDir ? [resolvePath(opts.outDir)] : [])] });
      } catch (e) {
        if (e instanceof Exit) throw e; // already reported
        ctx.fail((e as Error).message);
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
      const { rows, skipped } = run;
      const failed = rows.filter((r) => r.error || !r.result?.gradable).length;
      for (const s of skipped) ctx.err(`skipped ${s}\n`);
      ctx.err(`graded ${rows.length - failed} of ${rows.length} submissions; gradebook: ${opts.csv}\n`);
      for (const r of rows) if (r.error) ctx.err(`  ${r.student}: ${r.error}\n`);
      else if (!r.result!.gradable) ctx.err(`  ${r.student}: not gradable: ${[...r.result!.formatErrors, ...r.result!.graderErrors].join('; ')}\n`);
      const mistakes = mistakeSummary(rows);
      if (mistakes.length) ctx.err(`named mistakes across the class (students):\n${mistakes.map(([id, n]) => `  ${id}: ${n}`).join('\n')}\n`);
      ctx.exitCode = rows.some((r) => r.error || r.result?.graderErrors.length) ? EXIT.failed : EXIT.ok;
    });
}
