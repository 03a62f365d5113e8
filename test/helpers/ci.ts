import { spawnSync } from 'node:child_process';
import type { Test } from 'tap';

/**
 * Whether the tests run under CI (.ci/run exports CI=true, as CI services do). Under CI a test
 * must never pass by doing less: no golden file written in place of a comparison, no skip for a
 * tool the machine lacks (scripts/bootstrap.sh installs them).
 */
export function underCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Undefined when `command args` runs and exits 0, else what is missing, saying how to get it. */
export function missingCommand(command: string, args: string[], debianPackage = command): string | undefined {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? undefined : `${command} is not installed (apt-get install ${debianPackage}; scripts/bootstrap.sh installs it)`;
}

/**
 * Registers a test that needs something this machine may lack (`missing` says what, or is
 * undefined when all is there). Outside CI the test is skipped with that reason; under CI it
 * fails with it, so a CI machine without the tool cannot report success for a test that never
 * ran.
 */
export function testNeeding(parent: Test, name: string, missing: string | undefined, fn: (t: Test) => Promise<void>): void {
  if (missing === undefined) {
    void parent.test(name, fn);
  } else if (underCi()) {
    void parent.test(name, async (t) => {
      t.fail(`cannot run under CI: ${missing}`);
    });
  } else {
    void parent.test(name, { skip: missing }, fn);
  }
}
