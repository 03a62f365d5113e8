import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs mounted for one test: a disk that really fills up, or really turns read-only
 * (root ignores file modes, not a read-only mount). Needs root and CAP_SYS_ADMIN; when the
 * machine cannot, `skip` says why (pass it to testNeeding, which fails under CI).
 */
export function mountTmpfs(sizeMb: number, prefix = 'sigma-tmpfs-'): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a tmpfs (the test machine and CI run as root)' };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmdirSync(dir);
    return { skip: `cannot mount a tmpfs (no CAP_SYS_ADMIN?): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
}

/** Remounts read-only or read-write; read-only fails (EBUSY) while a file on it is open for writing. */
export function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // something still holds a file open
  }
  rmdirSync(dir);
}

export const freeBytes = (dir: string): number => { const s = statfsSync(dir); return s.bavail * s.bsize; };
