/**
 * Copying a submission into its sandbox. The grader reads the student's files as root, so the
 * copy must not be a way to read anything else: symbolic links are copied as links only when they
 * point inside the submission (others are left out, with a note), special files (FIFOs, sockets,
 * devices) are left out (reading a FIFO would block the grader), and the copy stops at a size and a
 * file count.
 */
import { chmodSync, chownSync, copyFileSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export interface CopyLimits {
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_COPY_LIMITS: CopyLimits = { maxBytes: 256 * 1024 * 1024, maxFiles: 20000 };

export interface CopyResult {
  files: number;
  bytes: number;
  /** What was left out, and why. */
  skipped: string[];
}

export class CopyError extends Error {}

const inside = (root: string, p: string) => p === root || p.startsWith(root + sep);

/**
 * Copies `src` (a file or a folder) to `dest`. With `owner`, everything is chowned to that uid and
 * made readable by it alone (read-only: files 0400, folders 0500).
 */
export function copySubmission(src: string, dest: string, owner?: number, limits: CopyLimits = DEFAULT_COPY_LIMITS): CopyResult {
  const root = resolve(src);
  const r: CopyResult = { files: 0, bytes: 0, skipped: [] };
  const st = lstatSync(root);
  const fix = (p: string, mode: number) => {
    if (owner !== undefined) {
      chownSync(p, owner, owner);
      chmodSync(p, mode);
    }
  };
  const walk = (from: string, to: string) => {
    const s = lstatSync(from);
    const rel = relative(root, from) || '.';
    if (s.isSymbolicLink()) {
      const target = readlinkSync(from);
      const abs = resolve(dirname(from), target);
      if (isAbsolute(target) || !inside(root, abs)) {
        r.skipped.push(`${rel} (a link to outside the submission)`);
        return;
      }
      symlinkSync(target, to);
      if (owner !== undefined) lchownSync(to, owner, owner);
      return;
    }
    if (s.isDirectory()) {
      mkdirSync(to, { recursive: true });
      for (const e of readdirSync(from)) walk(join(from, e), join(to, e));
      fix(to, 0o500);
      return;
    }
    if (!s.isFile()) {
      r.skipped.push(`${rel} (not a regular file)`);
      return;
    }
    r.files++;
    r.bytes += s.size;
    if (r.files > limits.maxFiles) throw new CopyError(`the submission has more than ${limits.maxFiles} files`);
    if (r.bytes > limits.maxBytes) throw new CopyError(`the submission is larger than ${Math.round(limits.maxBytes / 1048576)} MiB`);
    copyFileSync(from, to);
    fix(to, 0o400);
  };
  if (st.isDirectory()) walk(root, dest);
  else {
    mkdirSync(dest, { recursive: true });
    walk(root, join(dest, root.split(sep).pop()!));
    fix(dest, 0o500);
  }
  return r;
}
