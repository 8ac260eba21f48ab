/**
 * What this machine can do to contain a submission, probed once per process.
 *
 * - `bwrap`: Debian's bubblewrap, in unprivileged user namespaces: a fresh mount namespace with
 *   only the runtime, the submission's copy and the runner; its own PID namespace (the grader is
 *   invisible and cannot be signalled); no network; a non-root uid with no capabilities. When the
 *   grader runs as root it first drops to a dedicated unprivileged uid, so the limits that count
 *   per user (processes) are exact and a kill of that uid reaches every process it started.
 * - `uid`: no user namespaces (many Docker containers), but the grader is root (Gradescope and
 *   PrairieLearn containers): the submission runs as a dedicated unprivileged uid, and the grader
 *   checks, before it runs anything, that this uid can read none of the grader's files and write
 *   none of its results (the platforms' own advice). No network when `unshare -n` works.
 * - `none`: neither. Grading refuses unless `--unsafe-no-sandbox` is given.
 * `CNN_ORACLE_SANDBOX=bwrap|uid|none` forces a mode (an error when it is not available).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync, unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export type SandboxMode = 'bwrap' | 'uid' | 'none';
export const SANDBOX_MODES: readonly SandboxMode[] = ['bwrap', 'uid', 'none'];

export interface Capabilities {
  /** The best mode available. */
  best: SandboxMode;
  root: boolean;
  bwrap: boolean;
  /** `unshare -n` works as the grader (for the uid mode's network isolation). */
  netns: boolean;
  /** Why the better modes are not available. */
  notes: string[];
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** First uid of the range the sandbox uses (one uid per submission graded at the same time); CNN_ORACLE_SANDBOX_UID moves it. */
export const uidBase = () => Number(process.env.CNN_ORACLE_SANDBOX_UID ?? 64200);
export const UID_SLOTS = 64;

let probed: Capabilities | undefined;

export function capabilities(): Capabilities {
  if (probed) return probed;
  const root = process.getuid?.() === 0;
  const notes: string[] = [];
  let bwrap = false;
  if (!have('bwrap')) notes.push('bubblewrap is not installed (Debian: apt-get install bubblewrap)');
  else {
    const drop = root ? ['setpriv', `--reuid=${uidBase()}`, `--regid=${uidBase()}`, '--clear-groups', '--'] : [];
    const r = spawnSync(drop[0] ?? 'bwrap', [...drop.slice(1), ...(root ? ['bwrap'] : []), '--ro-bind', '/', '/', '--size', '1048576', '--tmpfs', '/tmp', '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--uid', '1000', '--gid', '1000', 'true'], { encoding: 'utf8', timeout: 10000 });
    bwrap = r.status === 0;
    if (!bwrap) notes.push(`bubblewrap cannot create user namespaces here (${(r.stderr || r.error?.message || '').trim().split('\n')[0] || `status ${r.status}`})`);
  }
  if (root && !have('setpriv')) notes.push('setpriv (util-linux) is missing, so the grader cannot drop to an unprivileged uid');
  if (!have('prlimit')) notes.push('prlimit (util-linux) is missing, so no per-process limits can be set');
  if (!root) notes.push('the grader is not root, so it cannot run the submission as a dedicated unprivileged user');
  const netns = root && spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  const uidOk = root && have('setpriv') && have('prlimit');
  const best: SandboxMode = bwrap && have('prlimit') && (!root || have('setpriv')) ? 'bwrap' : uidOk ? 'uid' : 'none';
  probed = { best, root, bwrap, netns, notes };
  return probed;
}

/** The mode to use: forced by CNN_ORACLE_SANDBOX, else the best available. Throws when forced to one that is not available. */
export function chooseMode(): SandboxMode {
  const caps = capabilities();
  const forced = process.env.CNN_ORACLE_SANDBOX as SandboxMode | undefined;
  if (!forced) return caps.best;
  if (!SANDBOX_MODES.includes(forced)) throw new Error(`CNN_ORACLE_SANDBOX must be one of ${SANDBOX_MODES.join(', ')}, got ${JSON.stringify(forced)}`);
  const ok = forced === 'none' || (forced === 'bwrap' ? caps.best === 'bwrap' : caps.root && have('setpriv') && have('prlimit'));
  if (!ok) throw new Error(`CNN_ORACLE_SANDBOX=${forced} is not available here: ${caps.notes.join('; ') || 'unknown reason'}`);
  return forced;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Leases a sandbox uid for one submission: a lock file per uid in the temporary folder, holding
 * the grader's pid, so two graders on one machine never share a uid; a lock whose process is gone
 * is taken over. Returns the uid and a function that gives it back.
 */
export function leaseUid(): { uid: number; release: () => void } {
  for (let k = 0; k < UID_SLOTS; k++) {
    const uid = uidBase() + k;
    const lock = join(tmpdir(), `cnn-oracle-uid-${uid}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, 'wx', 0o644);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        killUid(uid); // anything a crashed grader left behind under this uid
        return { uid, release: () => void rmQuiet(lock) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const owner = Number(readQuiet(lock));
        if (owner && (owner === process.pid || alive(owner))) break;
        rmQuiet(lock);
      }
    }
  }
  throw new Error(`all ${UID_SLOTS} sandbox uids from ${uidBase()} are in use`);
}

/** SIGKILL to every process of a uid (run as that uid: `kill -1` reaches exactly its processes). */
export function killUid(uid: number): void {
  spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'kill', '-KILL', '-1'], { stdio: 'ignore', timeout: 5000 });
}

/** The pids of every process owned by a uid. */
export function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readQuiet(`/proc/${e}/status`);
    const m = s && /\nUid:\s+(\d+)/.exec(s);
    if (m && Number(m[1]) === uid) out.push(Number(e));
  }
  return out;
}

export function readQuiet(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function rmQuiet(file: string): void {
  try {
    if (existsSync(file)) unlinkSync(file);
  } catch {
    /* gone already */
  }
}
