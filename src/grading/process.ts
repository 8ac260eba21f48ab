/**
 * A submission's process, in its sandbox (src/sandbox), spoken to over the line protocol
 * (src/sandbox/runner/protocol.ts):
 * - start-up has its own stated budget, ended by the answer to the hello request; each case's time
 *   limit then counts from writing its request to reading its answer, exactly;
 * - a case that times out, crashes, runs out of memory or floods its output kills every process of
 *   the sandbox; the next request starts a fresh one (with a fresh start-up budget);
 * - standard output is read as bytes, one answer line bounded by a size the grader states per
 *   request; standard error is kept as the log (its start and its end);
 * - between requests the sandbox is frozen (SIGSTOP), so nothing of the submission runs while the
 *   grader judges its answer, from the grader's own copy.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { capabilities, type SandboxMode } from '../sandbox/capabilities.js';
import { Sandbox, SandboxError, type SandboxLimits } from '../sandbox/sandbox.js';
import { HELLO_ID, type Request, type Response } from '../sandbox/runner/protocol.js';
import { CopyError } from '../sandbox/copy.js';

export type SubmissionSpec =
  | {
      kind: 'js';
      /** The module to load. */
      file: string;
      /** When the submission is a folder (package.json main, index.*): that folder, copied whole. A single file is copied alone. */
      root?: string;
      /** The instructor's adapter module (one file). */
      adapter?: string;
      /** More files or folders it may read (the instructor's --allow-read). */
      readable?: string[];
    }
  | { kind: 'command'; command: string; cwd: string; readable?: string[] };

export interface Limits {
  memoryMb: number;
  /** Budget for each (re)start, up to the answer to the hello request. */
  startupMs: number;
  tasks: number;
  cpuSeconds: number;
  fileMb: number;
}

export interface Isolation {
  /** How the submission was contained (see src/sandbox/capabilities.ts). */
  sandbox: SandboxMode;
  /** True when grading ran without a sandbox (--unsafe-no-sandbox). */
  unsafe: boolean;
  network: 'none' | 'host';
  files: 'own-copy' | 'permission-model' | 'none';
  processes: 'pid-namespace' | 'dedicated-uid' | 'process-group';
  limits: { memoryMb: number; startupMs: number; tasks: number; cpuSeconds: number; fileMb: number };
  notes: string[];
}

export type Failure = { ok: false; kind: 'timeout' | 'crash' | 'memory' | 'output' | 'startup'; message: string; ms: number };
export type Outcome = { ok: true; response: Response; ms: number } | Failure;

/** A submission that cannot be graded at all (it cannot be found, copied or loaded), in the student's words. */
export class SubmissionError extends Error {}

/** A JS submission given as a path: a file is copied alone, a folder whole (its entry: package.json main or index.*). */
export function jsSubmission(path: string, extra: { adapter?: string; readable?: string[] } = {}): SubmissionSpec {
  const p = resolve(path);
  const file = resolveSubmissionFile(p);
  return { kind: 'js', file, ...(file !== p ? { root: p } : {}), ...extra };
}

/** Resolves a submission path (file, or folder with package.json main / index.*) to a module file inside it. */
export function resolveSubmissionFile(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new SubmissionError(`${path}: no such file or folder`);
  if (statSync(p).isFile()) return p;
  const pkg = join(p, 'package.json');
  if (existsSync(pkg) && statSync(pkg).isFile() && statSync(pkg).size < 1 << 20) {
    let main: unknown;
    try {
      main = (JSON.parse(readFileSync(pkg, 'utf8')) as { main?: unknown }).main;
    } catch {
      throw new SubmissionError(`${path}/package.json is not valid JSON`);
    }
    if (typeof main === 'string') {
      const m = resolve(p, main);
      // only a regular file inside the submission: never follow a link out of it
      if (existsSync(m) && realpathSync(m).startsWith(realpathSync(p) + sep) && statSync(m).isFile()) return m;
    }
  }
  for (const f of ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'index.cjs']) if (existsSync(join(p, f))) return join(p, f);
  const found = readdirSync(p).slice(0, 20).join(', ') || 'nothing';
  throw new SubmissionError(`${path}: a folder submission needs package.json "main" or an index.{ts,js,mjs} file (found: ${found})`);
}

/** What a submission may write besides its answers (logs, stray lines) while answering one case. */
export const OTHER_OUTPUT_LIMIT = 64 << 20;

const TS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** Whether a JS submission needs TypeScript (its entry, or any file in its folder). */
function needsTs(file: string, folder: string | undefined): boolean {
  if (TS.has(extname(file))) return true;
  if (!folder) return false;
  const walk = (d: string, depth: number): boolean => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      if (e.isFile() && TS.has(extname(e.name))) return true;
      if (e.isDirectory() && depth > 0 && walk(join(d, e.name), depth - 1)) return true;
    }
    return false;
  };
  return walk(folder, 4);
}

/** The log keeps the start and the end of what the submission wrote to standard error. */
export class Log {
  private head = '';
  private tail = '';
  private dropped = 0;
  constructor(private headMax = 48 * 1024, private tailMax = 16 * 1024) {}
  add(s: string): void {
    if (this.head.length < this.headMax) {
      const room = this.headMax - this.head.length;
      this.head += s.slice(0, room);
      s = s.slice(room);
    }
    if (!s) return;
    this.tail += s;
    if (this.tail.length > this.tailMax) {
      this.dropped += this.tail.length - this.tailMax;
      this.tail = this.tail.slice(-this.tailMax);
    }
  }
  toString(): string {
    return this.head + (this.dropped ? `\n… ${this.dropped} characters left out …\n` : '') + this.tail;
  }
  lastLine(): string | undefined {
    return (this.head + this.tail).split('\n').filter((l) => l.trim() && !l.startsWith('[stdout]') && !l.startsWith('[grader]')).pop();
  }
}

/** Splits a byte stream into lines, refusing any line longer than `max` bytes. */
export class Lines {
  private parts: Buffer[] = [];
  private length = 0;
  max = 1 << 20;
  constructor(private onLine: (line: string) => void, private onOverflow: (bytes: number) => void) {}
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      if (end > start) {
        this.parts.push(chunk.subarray(start, end));
        this.length += end - start;
        if (this.length > this.max) {
          const n = this.length;
          this.parts = [];
          this.length = 0;
          this.onOverflow(n);
          return;
        }
      }
      if (nl < 0) return;
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.length = 0;
      this.onLine(line);
      start = nl + 1;
    }
  }
}

interface Pending {
  id: string;
  finish: (o: Outcome) => void;
}

export class SubmissionProcess {
  private child?: ChildProcess;
  private sandbox: Sandbox;
  private log = new Log();
  private pending?: Pending;
  private starting?: Promise<Failure | undefined>;
  private exitNote = '';
  private frozen = false;
  /** Set when the JS runner could not load the submission (a syntax error, a missing import). */
  loadError?: string;
  /** The submission's program said it reads binary tensors. */
  binary = false;
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;
  readonly isolation: Isolation;
  private readonly ts: boolean;

  constructor(
    private spec: SubmissionSpec,
    private limits: Limits,
    /** What the submission must not read (fixtures, the assignment, the package) and not write (results). */
    protect: { read: string[]; write: string[] },
    /** The sandbox mode to use (see capabilities.ts); `none` only with --unsafe-no-sandbox. */
    mode: SandboxMode,
  ) {
    const source = spec.kind === 'js' ? spec.root ?? spec.file : spec.cwd;
    if (!existsSync(source)) throw new SubmissionError(`${source}: no such file or folder`);
    this.ts = spec.kind === 'js' && needsTs(spec.file, spec.root);
    const sandboxLimits: SandboxLimits = { memoryMb: limits.memoryMb, tasks: limits.tasks, cpuSeconds: limits.cpuSeconds, fileMb: limits.fileMb };
    try {
      this.sandbox = new Sandbox({
        mode,
        source,
        runner: spec.kind === 'js' ? (this.ts ? 'ts' : 'js') : 'command',
        adapter: spec.kind === 'js' ? spec.adapter : undefined,
        readable: spec.readable ?? [],
        protect: protect.read,
        protectWrite: protect.write,
        limits: sandboxLimits,
      });
    } catch (e) {
      if (e instanceof CopyError) throw new SubmissionError(`${source}: ${e.message}`);
      if (e instanceof SandboxError) throw e;
      throw e;
    }
    live.add(this);
    const caps = capabilities();
    const notes = [...this.sandbox.notes];
    const network = mode === 'bwrap' || (mode === 'uid' && caps.netns) ? 'none' : 'host';
    if (network === 'host') notes.push('the submission has network access: the platform’s container must cut it off');
    if (mode === 'none') notes.push('NO SANDBOX (--unsafe-no-sandbox): the submission ran as the grader’s own user and could read what the grader can' + (spec.kind === 'js' ? ' outside what Node’s permission model blocks' : ''));
    this.isolation = {
      sandbox: mode,
      unsafe: mode === 'none',
      network,
      files: mode === 'none' ? (spec.kind === 'js' ? 'permission-model' : 'none') : 'own-copy',
      processes: mode === 'bwrap' ? 'pid-namespace' : this.sandbox.uid !== undefined ? 'dedicated-uid' : 'process-group',
      limits: { ...limits },
      notes,
    };
  }

  /** The program's argv inside the sandbox. */
  private argv(): string[] {
    const p = this.sandbox.paths;
    if (this.spec.kind === 'command') return ['/bin/sh', '-c', this.spec.command];
    const entry = this.spec.root ? join(p.submission, relative(this.spec.root, this.spec.file)) : p.entry;
    const node = [process.execPath, '--no-warnings', `--max-old-space-size=${this.limits.memoryMb}`];
    if (this.sandbox.mode === 'none') {
      // no sandbox: Node's permission model is all there is (reads: its copy and the runner; writes: scratch)
      node.push('--experimental-permission', '--allow-worker', `--allow-fs-read=${p.submission}${sep}`, `--allow-fs-read=${dirname(p.runner)}${sep}`, `--allow-fs-read=${p.tmp}${sep}`, `--allow-fs-write=${p.tmp}${sep}`);
      for (const r of this.spec.readable ?? []) node.push(`--allow-fs-read=${resolve(r)}`);
      if (p.adapter) node.push(`--allow-fs-read=${p.adapter}`);
    }
    if (this.ts) node.push('--import', `file://${join(p.nodeModules, 'tsx', 'dist', 'loader.mjs')}`);
    return [...node, join(p.runner, 'runner.js'), `--root=${p.submission}`, entry, ...(p.adapter ? [p.adapter] : [])];
  }

  private startProcess(): void {
    const child = this.sandbox.spawn(this.argv());
    this.child = child;
    this.exitNote = '';
    this.frozen = false;
    const lines = new Lines(
      (line) => this.onLine(line),
      (bytes) => this.fail('output', `wrote more than ${fmtBytes(lines.max)} on one line of standard output (${fmtBytes(bytes)} without a newline)`),
    );
    this.lines = lines;
    child.stdin!.on('error', () => {});
    child.stdout!.on('data', (d: Buffer) => lines.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      this.log.add(d.toString('utf8'));
      this.countOther(d.length, 'standard error');
    });
    child.on('error', (e) => this.log.add(`[grader] could not start the submission: ${e.message}\n`));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const why = this.exitNote || (signal ? `was killed by ${signal}` : `exited with status ${code}`);
      const oom = /heap out of memory|JavaScript heap|MemoryError|Cannot allocate memory|Array buffer allocation failed|std::bad_alloc/i.test(this.log.toString().slice(-4000));
      const last = this.log.lastLine();
      const said = last ? ` (its last words on stderr: ${last.trim().slice(0, 200)})` : '';
      this.sandbox.killAll(); // whatever it left running
      if (this.pending) {
        const p = this.pending;
        this.pending = undefined;
        p.finish(oom ? { ok: false, kind: 'memory', message: 'ran out of memory', ms: 0 } : { ok: false, kind: 'crash', message: `the submission ${why} before answering${said}`, ms: 0 });
      }
    });
  }

  private lines?: Lines;

  private onLine(line: string): void {
    let msg: Response | undefined;
    try {
      msg = JSON.parse(line) as Response;
    } catch {
      /* not an answer */
    }
    const p = this.pending;
    if (!p || !msg || typeof msg !== 'object' || msg.id !== p.id) {
      const at = p && !msg ? line.indexOf(`{"id":"${p.id}"`) : -1;
      if (at > 0) {
        // its answer came, but glued to other output that had no newline of its own
        this.fail('output', `its answer came after ${fmtBytes(at)} of other output on the same line of standard output (end your own output with a newline, or write it to standard error)`);
        return;
      }
      this.log.add(`[stdout] ${line.slice(0, 200)}\n`);
      this.countOther(line.length + 1, 'standard output');
      return;
    }
    this.pending = undefined;
    p.finish({ ok: true, response: msg, ms: 0 });
  }

  /** Bytes of other output (logs, stray lines) during the request in flight, bounded by OTHER_OUTPUT_LIMIT. */
  private other = 0;
  private countOther(bytes: number, where: string): void {
    this.other += bytes;
    if (this.pending && this.other > OTHER_OUTPUT_LIMIT) this.fail('output', `wrote more than ${fmtBytes(OTHER_OUTPUT_LIMIT)} to ${where} and the other stream while answering one case`);
  }

  /** Ends the case in flight with a failure and kills every process of the sandbox. */
  private fail(kind: 'timeout' | 'memory' | 'output', message: string): void {
    const p = this.pending;
    this.pending = undefined;
    this.stop(kind);
    p?.finish({ ok: false, kind, message, ms: 0 });
  }

  /** Kills every process of the sandbox for a limit it broke (what its exit is put down to). */
  private stop(kind: 'timeout' | 'memory' | 'output'): void {
    this.exitNote = kind === 'timeout' ? 'timed out' : kind === 'memory' ? 'used too much memory' : 'flooded its output';
    this.child = undefined;
    this.sandbox.killAll();
  }

  /** Writes one request and waits for its answer within `timeoutMs` (the memory watch runs meanwhile). */
  private exchange(req: Request, timeoutMs: number, maxBytes: number): Promise<Outcome> {
    const child = this.child!;
    if (this.frozen) {
      const pids = this.sandbox.pids(true); // one walk of /proc for both
      this.sandbox.resetPeaks(pids); // the memory limit holds for this case's peak, not an earlier one's
      this.sandbox.signalAll('SIGCONT', pids);
      this.frozen = false;
    }
    this.lines!.max = maxBytes;
    this.other = 0;
    const t0 = performance.now();
    return new Promise<Outcome>((resolveOutcome) => {
      let polls = 0;
      const finish = (o: Outcome) => {
        clearTimeout(timer);
        clearInterval(watch);
        const ms = performance.now() - t0;
        // an answer that came between two polls is held to the memory limit too: each process's
        // peak counts (memoryMb), so memory taken and freed again before answering is seen here
        const mb = o.ok ? this.sandbox.memoryMb() : 0;
        if (mb > this.limits.memoryMb) {
          this.stop('memory');
          resolveOutcome({ ok: false, kind: 'memory', message: memoryMessage(this.limits.memoryMb, mb), ms });
        } else resolveOutcome({ ...o, ms });
      };
      this.pending = { id: req.id, finish };
      const timer = setTimeout(() => this.fail('timeout', `no answer within the time limit of ${timeoutMs} ms`), timeoutMs);
      const watch = setInterval(() => {
        // the process tree every 25 ms; in the uid mode every process of the uid every 200 ms (orphans)
        const mb = this.sandbox.memoryMb(++polls % 8 === 0);
        if (mb > this.limits.memoryMb) this.fail('memory', memoryMessage(this.limits.memoryMb, mb));
      }, 25);
      child.stdin!.write(JSON.stringify(req) + '\n');
    });
  }

  /** Starts the program (if it is not running) and waits for its answer to the hello request. Undefined when it is ready. */
  start(): Promise<Failure | undefined> {
    if (this.child && !this.starting) return Promise.resolve(undefined);
    if (this.starting) return this.starting;
    this.startProcess();
    const hello: Request = { id: HELLO_ID, op: 'hello', inputs: {}, params: { protocol: 1, encodings: ['json', 'base64'] } };
    this.starting = this.exchange(hello, this.limits.startupMs, 1 << 20).then((o) => {
      this.starting = undefined;
      if (!o.ok) {
        const message = o.kind === 'timeout' ? `did not start within the start-up budget of ${this.limits.startupMs} ms (no answer to the hello request)` : o.message;
        return { ...o, kind: o.kind === 'timeout' ? ('startup' as const) : o.kind, message };
      }
      this.binary = !!o.response.protocol?.encodings?.includes('base64');
      if (o.response.errorKind === 'load') this.loadError = typeof o.response.error === 'string' ? o.response.error : 'the submission could not be loaded';
      this.freeze();
      return undefined;
    });
    return this.starting;
  }

  private freeze(): void {
    if (this.child && !this.frozen) {
      this.sandbox.signalAll('SIGSTOP');
      this.frozen = true;
    }
  }

  /** A fresh, unpredictable request id. */
  nextId(): string {
    return `${this.nonce}-${this.seq++}`;
  }

  /**
   * Sends one request and waits for its answer, the time limit, a crash, the memory limit, or an
   * answer line longer than `maxBytes`. A (re)start first gets its own start-up budget.
   */
  async request(req: Request, timeoutMs: number, maxBytes = 64 << 20): Promise<Outcome> {
    const started = await this.start();
    if (started) return started;
    const o = await this.exchange(req, timeoutMs, maxBytes);
    this.freeze();
    return o;
  }

  /** What the submission wrote to standard error (and stray standard output): its start and its end. */
  get stderr(): string {
    return this.log.toString();
  }

  close(): void {
    live.delete(this);
    this.pending = undefined;
    this.child = undefined;
    this.sandbox.dispose();
  }
}

const memoryMessage = (limit: number, mb: number) => `used more than the memory limit of ${limit} MB (${Math.round(mb)} MB)`;

/** Every submission process not yet closed (so that a signal to the grader can end them all). */
const live = new Set<SubmissionProcess>();

/** Kills every submission process and removes their sandboxes (SIGINT/SIGTERM to the grader). */
export function closeAll(): void {
  for (const p of [...live]) p.close();
}

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}
