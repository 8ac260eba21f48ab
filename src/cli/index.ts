/**
 * The `cnn-oracle` program, importable: `run(argv, io)` parses the arguments (without `node` and
 * the script), runs one command and returns its exit status, writing only through `io`. Each
 * command lives in its own module under src/cli/ and registers itself on the program; the bin
 * (src/cli.ts) only passes the process's streams. Every failure a user can cause ends in one line
 * on standard error and an exit status; no stack traces.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { OracleError } from '../errors.js';
import { DEFAULT_BUDGET, resetBudget, setBudget } from '../validate.js';
import { VERSION } from '../version.js';
import * as assignment from './assignment.js';
import * as backends from './backends.js';
import * as catalogue from './catalogue.js';
import * as check from './check.js';
import * as conformance from './conformance.js';
import { Ctx, EXIT, Exit, type Io } from './context.js';
import * as evalCmd from './eval.js';
import * as exercise from './exercise.js';
import * as exportCmd from './export.js';
import * as grade from './grade.js';
import * as gradcheck from './gradcheck.js';
import * as sandbox from './sandbox.js';

export { EXIT, type Io } from './context.js';

/** The commands, in the order `--help` lists them. */
const COMMANDS: ((program: Command, ctx: Ctx) => void)[] = [
  evalCmd.register,
  check.register,
  gradcheck.register,
  grade.register,
  sandbox.register,
  grade.registerAll,
  exportCmd.register,
  assignment.register,
  exercise.register,
  exercise.registerSummary,
  conformance.register,
  backends.register,
  catalogue.register,
];

/** The process's own streams. */
export const processIo = (): Io => ({
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdin: () => readFileSync(0, 'utf8'),
  isTTY: !!process.stderr.isTTY,
});

export function buildProgram(ctx: Ctx = new Ctx(processIo())): Command {
  const program = new Command();
  program
    .name('cnn-oracle')
    .description('Exact reference operators for CNNs: evaluate and check cases against them.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: ctx.out, writeErr: ctx.err })
    .addOption(new Option('--max-elements <n>', `the most values one output may have (default ${DEFAULT_BUDGET.maxElements}; env CNN_ORACLE_MAX_ELEMENTS)`).argParser(ctx.positiveInt('--max-elements')))
    .addOption(new Option('--max-work <n>', `the most inner-loop steps one case may take (default ${DEFAULT_BUDGET.maxWork}; env CNN_ORACLE_MAX_WORK)`).argParser(ctx.positiveInt('--max-work')))
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ maxElements?: number; maxWork?: number }>();
      setBudget({ ...(o.maxElements ? { maxElements: o.maxElements } : {}), ...(o.maxWork ? { maxWork: o.maxWork } : {}) });
    });
  // commands made after this inherit the output and exit settings (commander copies them)
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Runs the program on `argv` (the arguments after the script) and returns the exit status. */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const ctx = new Ctx(io);
  resetBudget(); // a flag of an earlier run in this process does not carry over
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    // help and version exit 0; usage errors were already printed by commander
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof OracleError) {
      io.stderr(`cnn-oracle: ${e.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`cnn-oracle: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  } finally {
    resetBudget(); // nor into what the process does after it (the library's ops, the next run)
  }
}
