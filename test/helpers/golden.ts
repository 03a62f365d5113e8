import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Test } from 'tap';
import { underCi } from './ci.js';

const GOLDEN_DIR = 'test/fixtures/golden';

/**
 * Compares `text` with the golden file `test/fixtures/golden/<name>`.
 *
 * UPDATE_GOLDEN=1 rewrites it (review the diff before committing). A missing file is written
 * only outside CI, where a new test creates its golden on its first run; under CI a missing
 * golden fails, since a file written from the output under test would pass whatever the
 * product renders.
 */
export function matchesGolden(t: Test, name: string, text: string): void {
  const file = resolve(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, text);
  } else if (!existsSync(file)) {
    if (underCi()) {
      t.fail(`golden file ${GOLDEN_DIR}/${name} is missing; under CI it is not written: `
        + 'run this test outside CI (or with UPDATE_GOLDEN=1), review the file and commit it');
      return;
    }
    writeFileSync(file, text);
    t.comment(`wrote the missing golden file ${GOLDEN_DIR}/${name}: review it and commit it`);
  }
  t.equal(text, readFileSync(file, 'utf8'), `matches golden ${name}`);
}
