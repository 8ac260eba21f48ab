import { Option, type Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Reading } from '../exercises/answers.js';
import type { Exercise, VariantChoice } from '../exercises/bank.js';
import { EXIT, type Ctx } from './context.js';

const loadExercises = () => import('../exercises/bank.js');

/** `exercise list|show|check|solve|sheet`: the worked exercises of the course notes. */
export function register(program: Command, ctx: Ctx): void {
  const exerciseOrExit = async (id: string): Promise<Exercise> => {
    const { getExercise } = await loadExercises();
    return ctx.orExit(() => getExercise(id));
  };
  const exercise = program.command('exercise').description('the worked exercises of the course notes: list, show, check an answer, solve');
  const variantOpts = (c: Command) => c.option('--seed <s>', 'a numbered variant (0: the notes’ own numbers)').option('--student <id>', 'this student’s variant');
  exercise
    .command('list')
    .description('list the exercises')
    .option('--json', 'machine-readable')
    .action(async (opts: { json?: boolean }) => {
      const { loadBank, titleText } = await loadExercises();
      const bank = loadBank();
      if (opts.json) return void ctx.out(JSON.stringify(bank.map((e) => ({ id: e.id, kind: e.kind, title: titleText(e), source: e.source, ...(e.group ? { group: e.group } : {}) })), null, 2) + '\n');
      const w = Math.max(...bank.map((e) => e.id.length));
      for (const e of bank) ctx.out(`${e.id.padEnd(w)}  ${titleText(e)}\n`);
    });
  variantOpts(exercise.command('show').description('print the question (variant 0, or a seed / student variant)').argument('<id>', 'exercise id')).action(async (id: string, opts: VariantChoice) => {
    const e = await exerciseOrExit(id);
    const { questionText, titleText } = await loadExercises();
    ctx.out(`${e.id}: ${ctx.orExit(() => titleText(e, opts))}\n\n${ctx.orExit(() => questionText(e, opts))}\n`);
  });
  variantOpts(
    exercise
      .command('check')
      .description('say whether an answer is right; name the likely mistake, or what to look at, when it is wrong')
      .argument('<id>', 'exercise id')
      .requiredOption('-a, --answer <value>', 'the answer (5, 32x32x10, [1, 2], none, …) or a JSON file holding it'),
  ).action(async (id: string, opts: VariantChoice & { answer: string }) => {
    const e = await exerciseOrExit(id);
    const { checkAnswer, feedbackLines, readAnswerFor, variantFlags } = await loadExercises();
    const reading: Reading = ctx.orExit(() => (existsSync(opts.answer) && statSync(opts.answer).isFile() ? { value: JSON.parse(readFileSync(opts.answer, 'utf8')), notes: [] } : readAnswerFor(e, opts, opts.answer)));
    const r = ctx.orExit(() => checkAnswer(e, opts, reading.value, reading));
    const lines = [`${r.correct ? 'right' : 'wrong'}: ${e.id}`, ...feedbackLines(r).map((l) => `  ${l}`)];
    if (!r.correct) lines.push(`  (tolerance: ${r.tolerance}; \`cnn-oracle exercise solve ${e.id}${variantFlags(opts)}\` works it out)`);
    ctx.out(lines.join('\n') + '\n');
    ctx.exitCode = r.correct ? EXIT.ok : EXIT.failed;
  });
  variantOpts(exercise.command('solve').description('print the worked solution step by step').argument('<id>', 'exercise id')).action(async (id: string, opts: VariantChoice) => {
    const e = await exerciseOrExit(id);
    const { questionText, solutionText, titleText } = await loadExercises();
    const steps = ctx.orExit(() => solutionText(e, opts));
    ctx.out(`${e.id}: ${titleText(e, opts)}\n\n${questionText(e, opts)}\n\n${steps.map((l, i) => `${i + 1}. ${l}`).join('\n')}\n`);
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
    for (const id of ids ?? []) await exerciseOrExit(id);
    const { variantFlags } = await loadExercises();
    const { sheetHtml, sheetText } = await import('../exercises/sheet.js');
    const v: VariantChoice = { seed: opts.seed, student: opts.student };
    ctx.emit(opts.format === 'html' ? await sheetHtml(v, variantFlags(v), ids) : sheetText(v, ids), opts.out);
  });
}

/** `summary`: the per-layer table of a model. */
export function registerSummary(program: Command, ctx: Ctx): void {
  program
    .command('summary')
    .description('per-layer table of a model (sequential, or with residual adds and concatenated branches): output shape, activations, parameters, MACs, receptive field')
    .argument('<model>', 'model JSON (exercises/models/vgg16.json, alexnet.json, resnet18.json, …)')
    .option('--json', 'machine-readable')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { parseModel, summarize, summaryTable } = await import('../exercises/summary.js');
      const text = ctx.orExit(() => {
        try {
          const model = parseModel(JSON.parse(readFileSync(file, 'utf8')));
          return opts.json ? JSON.stringify(summarize(model), null, 2) + '\n' : summaryTable(model);
        } catch (e) {
          throw new Error(`${file}: ${(e as Error).message}`);
        }
      });
      ctx.out(text);
    });
}
