/**
 * What every command module shares: where output goes (injectable, so tests run the program in
 * process), the exit status, and the helpers that turn a user's mistake into one line on standard
 * error and an exit status — no stack traces.
 *
 * This module and every command's `register` load only what building the program needs (commander,
 * the name lists): `--help` and `--version` start in about the time Node itself takes. The modules
 * that do the work (the ops, the grader, Ajv) are imported by the actions that use them; a test
 * (tests/cli.test.ts) checks that `--version` and `--help` load none of them.
 */
import { Option } from 'commander';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import type { RawCase } from '../cases.js';
import type { Assignment } from '../grading/assignment.js';
import { VISIBILITIES, type Visibility } from '../grading/names.js';
import { BACKENDS } from '../backend-names.js';

/** The op registry with the catalogue loaded (the ops register themselves when their modules load). */
export const catalogue = async () => {
  await import('../ops/index.js');
  return import('../registry.js');
};

/** Exit statuses of eval/check/grade (cases.md, grading.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where the program reads and writes. The bin passes the process's own streams. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** The text of standard input, for a file named `-` (default: read file descriptor 0). */
  stdin?(): string;
  /** Whether standard error is a terminal (grade-all's progress bar). Default false. */
  isTTY?: boolean;
}

/** Thrown by `fail` once its message is written; `run` returns its code. */
export class Exit {
  constructor(readonly code: number) {}
}

export class Ctx {
  /** The status `run` returns when the command ends normally. */
  exitCode: number = EXIT.ok;
  constructor(readonly io: Io) {}

  out = (s: string): void => this.io.stdout(s);
  err = (s: string): void => this.io.stderr(s);

  /** One line on standard error, then the command ends with `code`. */
  fail: (message: string, code?: number) => never = (message, code = EXIT.usage) => {
    this.io.stderr(`cnn-oracle: ${message}\n`);
    throw new Exit(code);
  };

  /** The value, or the error's message on standard error and exit 2 (an unreadable answer, a bad variant). */
  orExit = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof Exit) throw e;
      return this.fail((e as Error).message);
    }
  };

  /** The cases of every file (`-`: standard input); an unreadable or malformed file is exit 2. */
  loadCases = async (files: string[]): Promise<RawCase[]> => {
    const { FileError, readCaseFile } = await import('../cases.js');
    return files.flatMap((file) => {
      try {
        return readCaseFile(file, this.io.stdin?.bind(this.io));
      } catch (e) {
        if (e instanceof FileError) this.fail(e.message);
        throw e;
      }
    });
  };

  assignmentOrExit = async (file: string | undefined): Promise<Assignment> => {
    const { defaultAssignment, loadAssignment } = await import('../grading/assignment.js');
    return this.orExit(() => (file ? loadAssignment(file) : defaultAssignment()));
  };

  revealOrExit = (v: string[] | undefined): Visibility[] => {
    for (const x of v ?? []) if (!(VISIBILITIES as readonly string[]).includes(x)) this.fail(`--reveal: ${JSON.stringify(x)} is not a visibility (${VISIBILITIES.join(', ')})`);
    return (v ?? []) as Visibility[];
  };

  /** Writes a command's result to --out, or to standard output. */
  emit = (text: string, out: string | undefined): void => {
    if (!out) return this.out(text);
    try {
      writeFileSync(out, text);
    } catch (e) {
      this.fail(`cannot write ${out}: ${writeError(e)}`);
    }
  };

  /**
   * A sink for output written piece by piece: the file `file`, or standard output. A write that
   * fails later (a full disk, /dev/full) is the same usage error as one that fails at once; it is
   * reported when the sink is closed.
   */
  openOut = (file: string | undefined): { write: (s: string) => void; close: () => Promise<void> } => {
    if (!file) return { write: this.out, close: async () => {} };
    let stream: WriteStream;
    try {
      writeFileSync(file, '');
      stream = createWriteStream(file, { flags: 'a' });
    } catch (e) {
      return this.fail(`cannot write ${file}: ${writeError(e)}`);
    }
    let failed: unknown;
    stream.on('error', (e) => (failed ??= e));
    return {
      write: (s) => void (failed === undefined && stream.write(s)),
      close: async () => {
        if (failed === undefined)
          await new Promise<void>((r) => {
            stream.once('close', r);
            stream.end();
          });
        if (failed !== undefined) this.fail(`cannot write ${file}: ${writeError(failed)}`);
      },
    };
  };

  positiveInt =
    (flag: string) =>
    (v: string): number => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) this.fail(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
}

function writeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ENOSPC' ? 'no space left on device' : err.message;
}

export const backendOption = (what = 'which implementation runs the ops (see `cnn-oracle backends`)') =>
  new Option('-b, --backend <backend>', what).choices([...BACKENDS]).default('reference');

export const expectedBackendOption = () =>
  backendOption('which backend computes the expected outputs: a float32 one (accelerated, simd) is faster on large cases, and each allowance then grows by its float32 bound');
