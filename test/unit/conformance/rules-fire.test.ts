import t from 'tap';
import { formatViolations, ViolationLog } from '../../helpers/conformance/report.js';
import { RULES, type RuleId } from '../../helpers/conformance/rules.js';
import { CLEAN_CASES, RULE_CASES } from './rule-cases.js';

/**
 * The checker's own test: every rule fires on a hand-made failing example, and conforming
 * playlists and streams come out without a single violation. A rule without a failing example
 * fails this test: a check that never fires is a defect.
 */

t.test('every rule of the catalogue has a failing example', async (t) => {
  const covered = new Set(RULE_CASES.map((c) => c.rule));
  const missing = (Object.keys(RULES) as RuleId[]).filter((r) => !covered.has(r));
  t.same(missing, [], 'rules without a failing example');
});

for (const c of RULE_CASES) {
  t.test(`${c.rule} fires: ${c.title}`, async (t) => {
    const found = await c.run();
    const log = new ViolationLog();
    log.add(found);
    t.ok(found.some((v) => v.rule === c.rule), `${c.rule} among what fired:\n${formatViolations(log.list())}`);
    for (const v of found.filter((v) => v.rule === c.rule)) {
      t.ok(v.url && v.message, 'every violation names a URL and says what is wrong');
    }
  });
}

for (const c of CLEAN_CASES) {
  t.test(`clean: ${c.title}`, async (t) => {
    const found = await c.run();
    const log = new ViolationLog();
    log.add(found);
    if (found.length > 0) t.comment(formatViolations(log.list()));
    t.equal(found.length, 0, 'no violations (any are listed above)');
  });
}
