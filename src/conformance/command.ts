/**
 * Program targets: `conformance --command "PROGRAM ARGS"` runs any program that speaks the grading
 * line protocol (src/sandbox/runner/protocol.ts: the hello request, one JSON request a line, one
 * answer a line, tensors as JSON or base64 per wire.ts) as a conformance target, and
 * `--target pytorch` / `pytorch-float64` is such a program shipped with the package
 * (clients/python/torch_target.py).
 *
 * Unlike a student's submission, a target program is the library author's own code, run on their
 * machine: it starts in the current folder with the caller's environment (a virtualenv, a GPU)
 * and no sandbox, and the Python helper's folder is put on PYTHONPATH so that `from cnn_oracle
 * import serve` works. The messages are the grader's (protocol.ts), the tensors go through the
 * grader's encoders (grade.ts wireInputs, ladder.ts decodeAnswer), the lines through the
 * grader's bounded line reader (process.ts Lines). Requests may be pipelined: every request has
 * its own id and answers are matched by id, so a caller can send many before the first answer.
 *
 * An answer `{"error", "errorKind": "unsupported" | "missing"}` is an unsupported case (the error is
 * the reason); any other error answer is that case's failure. A program that dies fails the cases
 * in flight ("the program exited with status 1 (its last words on stderr: …)") and is restarted
 * for the next case, at most MAX_RESTARTS times in a row per op (then that op's remaining cases
 * fail unrun, and the next op starts it afresh); one that cannot start at all is an error of the
 * whole run (exit 2), never a stack trace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { allOps, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { HELLO_ID, type Request, type Response } from '../sandbox/runner/protocol.js';
import { decodeAnswer } from '../grading/ladder.js';
import { wireInputs } from '../grading/grade.js';
import { Lines, Log } from '../grading/process.js';
import { PACKAGE_ROOT } from '../grading/assignment.js';
import { Unsupported, type OpAdapter, type TargetAdapter } from './adapter.js';

export interface CommandTargetOptions {
  /** The precision the program computes in: the error bound it is held to. */
  precision: 'float32' | 'float64';
  /** Name in the report (default: the command). */
  name?: string;
  /** Description in the report (default: the hello answer's `target`, else the command). */
  description?: string;
  /** Budget of a (re)start, up to the answer to the hello request (default 120 s: torch imports slowly on a loaded machine). */
  startupMs?: number;
  /** Time limit of one case (default 120 s). */
  caseMs?: number;
  cwd?: string;
}

/** How often a program that died is started again before every further case fails unrun. */
export const MAX_RESTARTS = 3;

interface Waiting {
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/** Thrown when the program cannot be started (or stopped answering for good): the run's error. */
export class ProgramError extends Error {}

/** One long-lived program answering the line protocol, requests matched to answers by id. */
export class ProgramClient {
  private child?: ChildProcess;
  private log = new Log();
  private waiting = new Map<string, Waiting>();
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;
  private starting?: Promise<void>;
  private restarts = 0;
  private dead?: string;
  private lastOp?: string;
  binary = false;
  /** The program's own description (its hello answer's `target`). */
  says?: string;

  constructor(
    readonly command: string,
    private readonly opts: { startupMs: number; caseMs: number; cwd: string },
  ) {}

  /** What the program wrote to standard error (its start and its end). */
  get stderr(): string {
    return this.log.toString();
  }

  private spawnChild(): void {
    const env = { ...process.env };
    const helper = join(PACKAGE_ROOT, 'clients', 'python');
    env.PYTHONPATH = env.PYTHONPATH ? `${helper}${delimiter}${env.PYTHONPATH}` : helper;
    const child = spawn('/bin/sh', ['-c', this.command], { cwd: this.opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const lines = new Lines(
      (line) => this.onLine(line),
      (bytes) => this.died(`wrote a line of ${bytes} bytes without a newline`),
    );
    lines.max = 1 << 30;
    child.stdin!.on('error', () => {});
    child.stdout!.on('data', (d: Buffer) => lines.push(d));
    child.stderr!.on('data', (d: Buffer) => this.log.add(d.toString('utf8')));
    child.on('error', (e) => this.log.add(`[conformance] could not start the program: ${e.message}\n`));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.died(signal ? `was killed by ${signal}` : `exited with status ${code}`);
    });
  }

  /** The program ended (or was ended): every request in flight fails with why. */
  private died(why: string): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    const last = this.log.lastLine();
    const message = `the program ${why}${last ? ` (its last words on stderr: ${last.trim().slice(0, 300)})` : ''}`;
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(message));
    }
    this.waiting.clear();
  }

  private onLine(line: string): void {
    let msg: Response | undefined;
    try {
      msg = JSON.parse(line) as Response;
    } catch {
      /* not an answer */
    }
    const w = msg && typeof msg === 'object' && typeof msg.id === 'string' ? this.waiting.get(msg.id) : undefined;
    if (!w) {
      this.log.add(`[stdout] ${line.slice(0, 200)}\n`);
      return;
    }
    this.waiting.delete(msg!.id);
    clearTimeout(w.timer);
    w.resolve(msg!);
  }

  private send(req: Request, timeoutMs: number, onTimeout: string): Promise<Response> {
    const child = this.child!;
    return new Promise<Response>((resolve, reject) => {
      const w: Waiting = { resolve, reject };
      w.timer = setTimeout(() => this.died(onTimeout), timeoutMs);
      this.waiting.set(req.id, w);
      child.stdin!.write(JSON.stringify(req) + '\n');
    });
  }

  /** Starts the program (if it is not running) and waits for its answer to the hello request. */
  start(): Promise<void> {
    if (this.dead) return Promise.reject(new ProgramError(this.dead));
    if (this.child && !this.starting) return Promise.resolve();
    if (this.starting) return this.starting;
    this.spawnChild();
    const hello: Request = { id: HELLO_ID, op: 'hello', inputs: {}, params: { protocol: 1, encodings: ['json', 'base64'] } };
    this.starting = this.send(hello, this.opts.startupMs, `did not answer the hello request within ${this.opts.startupMs} ms`).then(
      (r) => {
        this.starting = undefined;
        this.binary = !!r.protocol?.encodings?.includes('base64');
        if (typeof r.target === 'string') this.says = r.target.slice(0, 200);
      },
      (e: Error) => {
        this.starting = undefined;
        throw new ProgramError(`${this.command}: could not be started: ${e.message}`);
      },
    );
    return this.starting;
  }

  /** Runs one op on the program; throws Unsupported, or an Error saying what went wrong. */
  async run(op: OpDef, inputs: Inputs, params: Params): Promise<Outputs> {
    if (op.name !== this.lastOp) {
      // a program that keeps dying on one op gets a fresh start for the next op
      this.lastOp = op.name;
      this.restarts = 0;
      this.dead = undefined;
    }
    if (!this.child && !this.starting && this.seq > 0) {
      // it died on an earlier case: start it again, a few times per op (any answer resets the count)
      if (++this.restarts > MAX_RESTARTS) this.dead ??= `not run: the program died on ${MAX_RESTARTS + 1} ${op.name} cases in a row`;
    }
    await this.start();
    const id = `${this.nonce}-${this.seq++}`;
    const req: Request = { id, op: op.name, inputs: wireInputs(op, inputs, this.binary), params, outputNames: op.outputs.map((o) => o.name) };
    const r = await this.send(req, this.opts.caseMs, `gave no answer within the time limit of ${this.opts.caseMs} ms`);
    this.restarts = 0;
    if (r.error !== undefined || !r.outputs || typeof r.outputs !== 'object') {
      const err = typeof r.error === 'string' ? r.error : JSON.stringify(r.error ?? 'an answer without outputs');
      if (r.errorKind === 'unsupported' || r.errorKind === 'missing') throw new Unsupported(err);
      throw new Error(`the program answered with an error: ${err}`);
    }
    const got: Outputs = {};
    for (const [k, t] of Object.entries(r.outputs)) {
      try {
        got[k] = decodeAnswer(t).array;
      } catch (e) {
        throw new Error(`${op.name}: output ${k} of the program's answer: ${(e as Error).message}`);
      }
    }
    return got;
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    for (const [, w] of this.waiting) clearTimeout(w.timer);
    this.waiting.clear();
    if (child) {
      child.stdin!.end();
      // a program that does not leave at the end of its input is ended
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      t.unref();
      child.once('exit', () => clearTimeout(t));
    }
  }
}

/** A program speaking the line protocol, as a conformance target for every catalogue op. */
export function commandTarget(command: string, o: CommandTargetOptions): TargetAdapter & { client: ProgramClient } {
  const client = new ProgramClient(command, { startupMs: o.startupMs ?? 120_000, caseMs: o.caseMs ?? 120_000, cwd: o.cwd ?? process.cwd() });
  const ops: Record<string, OpAdapter> = {};
  for (const op of allOps()) ops[op.name] = { run: (i, p) => client.run(op, i, p) };
  const target = {
    name: o.name ?? command,
    description: o.description ?? command,
    precision: o.precision,
    ops,
    client,
    async init() {
      await client.start();
      if (!o.description && client.says) target.description = client.says;
    },
    async dispose() {
      client.close();
    },
  };
  return target;
}

/** The Python that runs the PyTorch target: $CNN_ORACLE_PYTHON, else Debian's /usr/bin/python3. */
export function pytorchPython(): string {
  return process.env.CNN_ORACLE_PYTHON || '/usr/bin/python3';
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shipped PyTorch target (clients/python/torch_target.py) in float32 or float64. */
export function pytorchTarget(precision: 'float32' | 'float64', extra: Partial<CommandTargetOptions> = {}): TargetAdapter & { client: ProgramClient } {
  const script = join(PACKAGE_ROOT, 'clients', 'python', 'torch_target.py');
  const t = commandTarget(`exec ${shq(pytorchPython())} ${shq(script)} --dtype ${precision}`, { precision, name: precision === 'float32' ? 'pytorch' : 'pytorch-float64', ...extra });
  const init = t.init!.bind(t);
  t.init = async () => {
    try {
      await init();
    } catch (e) {
      throw new ProgramError(`${(e as Error).message}\nthe pytorch target needs torch (and torchvision) importable by ${pytorchPython()} (Debian: apt-get install python3-torch python3-torchvision; or set CNN_ORACLE_PYTHON)`);
    }
  };
  return t;
}
