import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { TARGETS } from '../conformance/target-names.js';
import { EXIT, type Ctx } from './context.js';

type Format = 'text' | 'json' | 'markdown' | 'html';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('conformance')
    .description('regression-test another CNN library (or our own accelerated or simd backend) against the exact reference')
    .option('-t, --target <name|file>', `a built-in target (accelerated, simd, tfjs-cpu, tfjs-wasm, onnxruntime, convnetjs, pytorch, pytorch-float64) or an adapter module`)
    .option('--command <program>', 'run a program speaking the grading line protocol as the target (e.g. "python3 my_target.py")')
    .addOption(new Option('--precision <precision>', 'with --command: the precision the program computes in, which sets the error bound').choices(['float32', 'float64']).default('float32'))
    .option('--cases <file>', 'run exactly the cases of this file (a case, an array, or JSON Lines such as --reproducers writes) instead of fixtures, probes and random cases')
    .option('--ops <list>', 'comma-separated ops (default: every op the target supports)')
    .option('-n, --random <n>', 'seeded random cases per op', '6')
    .option('-s, --seed <seed>', 'seed of the random cases', '0')
    .option('--probes <n>', 'cases drawn from each seeded probe family (NaN in pooling windows, sigmoid tails, …)', '6')
    .option('--no-shrink', 'do not shrink failing cases')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json', 'markdown', 'html']).default('text'))
    .option('-o, --out <file>', 'write the report there')
    .option('--reproducers <file>', 'write every failure’s reproducing case there, as JSON Lines (cnn-oracle check reads it)')
    .option('--matrix', 'run every target (or --targets) and print one op × target table: pass N, FAIL k/N, — unsupported, n/a not available here (failures are not shrunk)')
    .option('--targets <list>', `with --matrix: comma-separated targets (default: ${TARGETS.join(', ')})`)
    .action(async (opts: { target?: string; command?: string; precision: 'float32' | 'float64'; cases?: string; ops?: string; random: string; seed: string; probes: string; shrink: boolean; format: Format; out?: string; reproducers?: string; matrix?: boolean; targets?: string }) => {
      const n = Number(opts.random);
      if (!Number.isInteger(n) || n < 0) ctx.fail(`--random must be a non-negative integer, got ${JSON.stringify(opts.random)}`);
      const probes = Number(opts.probes);
      if (!Number.isInteger(probes) || probes < 0 || probes > 1000) ctx.fail(`--probes must be an integer from 0 to 1000, got ${JSON.stringify(opts.probes)}`);
      if (opts.matrix) return matrix(ctx, opts, n, probes);
      if (opts.targets) ctx.fail('--targets goes with --matrix (one target: --target NAME)');
      if (!opts.target === !opts.command) ctx.fail(opts.target ? 'give --target or --command, not both' : 'give a target: --target NAME|FILE or --command "PROGRAM ARGS"');
      const { loadCases } = await import('../conformance/replay.js');
      const { loadTarget } = await import('../conformance/targets.js');
      const { commandTarget, ProgramError } = await import('../conformance/command.js');
      const { reportHtml, reportText, runConformance } = await import('../conformance/run.js');
      const { encodeNumber, stringify } = await import('../tensor.js');
      let cases;
      if (opts.cases) {
        try {
          cases = loadCases(opts.cases);
        } catch (e) {
          ctx.fail((e as Error).message);
        }
      }
      let target;
      try {
        target = opts.command ? commandTarget(opts.command, { precision: opts.precision }) : await loadTarget(opts.target!);
      } catch (e) {
        ctx.fail((e as Error).message);
      }
      const ops = opts.ops?.split(',').map((x) => x.trim()).filter(Boolean);
      for (const o of ops ?? []) if (!target.ops[o]) ctx.fail(`target ${target.name} does not implement ${o} (it has: ${Object.keys(target.ops).join(', ')})`);
      let report;
      try {
        report = await runConformance(target, { ops, random: n, seed: opts.seed, shrink: opts.shrink, probes, cases });
      } catch (e) {
        // a target program that cannot be started: the run's error, one line, exit 2
        if (!(e instanceof ProgramError)) throw e;
        await target.dispose?.();
        ctx.fail(e.message);
      }
      const text = opts.format === 'json' ? JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? encodeNumber(v) : v), 2) + '\n' : opts.format === 'html' ? reportHtml(report) : reportText(report, opts.format === 'markdown');
      ctx.emit(text, opts.out);
      if (opts.reproducers) ctx.emit(report.failures.filter((f) => f.reproducer).map((f) => stringify(f.reproducer) + '\n').join(''), opts.reproducers);
      ctx.exitCode = report.failures.length ? EXIT.failed : EXIT.ok; // a CI gate: 0 all pass, 1 some case fails, 2 bad usage
    });
}

/** `conformance --matrix`: every target's run as one op × target table; exit 1 when a cell fails. */
async function matrix(ctx: Ctx, opts: { target?: string; command?: string; cases?: string; reproducers?: string; ops?: string; seed: string; shrink: boolean; format: Format; out?: string; targets?: string }, random: number, probes: number): Promise<void> {
  for (const [flag, v] of [['--target', opts.target], ['--command', opts.command], ['--cases', opts.cases], ['--reproducers', opts.reproducers]] as const) {
    if (v !== undefined) ctx.fail(`--matrix runs every target on its own cases; ${flag} does not go with it (--targets chooses the targets)`);
  }
  if (opts.format === 'html') ctx.fail('--matrix prints text, markdown or json');
  const targets = opts.targets ? opts.targets.split(',').map((x) => x.trim()).filter(Boolean) : [...TARGETS];
  for (const t of targets) if (!(TARGETS as readonly string[]).includes(t) && !existsSync(t)) ctx.fail(`--targets: ${t} is neither a built-in target (${TARGETS.join(', ')}) nor an adapter module file`);
  const { loadTarget } = await import('../conformance/targets.js'); // loads the op catalogue
  const { matrixText, runMatrix } = await import('../conformance/matrix.js');
  const { hasOp } = await import('../registry.js');
  const ops = opts.ops?.split(',').map((x) => x.trim()).filter(Boolean);
  for (const o of ops ?? []) if (!hasOp(o)) ctx.fail(`--ops: ${o} is not an op of the catalogue (cnn-oracle ops lists them)`);
  // --no-shrink is the matrix's default; shrinking only makes failing cells slower to count
  const m = await runMatrix(targets, loadTarget, { ops, random, seed: opts.seed, probes, shrink: false }, (line) => ctx.err(line + '\n'));
  ctx.emit(opts.format === 'json' ? JSON.stringify(m, null, 2) + '\n' : matrixText(m, opts.format === 'markdown'), opts.out);
  ctx.exitCode = m.ops.some((o) => Object.values(m.cells[o]).some((c) => c.status === 'failed')) ? EXIT.failed : EXIT.ok;
}
