/**
 * Collects violations over a long run. A broken line is usually seen again in every reload
 * that still lists it, so sightings are folded: the same rule on the same playlist and line
 * text counts once. A few examples per rule and playlist are kept, with the total.
 */
import { RULES, type RuleId, type Violation } from './rules.js';
import { playlistKey } from './urls.js';

/** One rule broken in one playlist: how often (distinct sightings) and the first examples. */
export interface ViolationGroup {
  rule: RuleId;
  /** The playlist without query (directives and tokens vary between requests). */
  playlist: string;
  count: number;
  examples: Violation[];
}

/** Collects violations, folding repeated sightings (see the module comment). */
export class ViolationLog {
  private readonly groups = new Map<string, ViolationGroup & { seen: Set<string> }>();

  constructor(private readonly examplesPerGroup = 3) {}

  add(violations: Iterable<Violation>): void {
    for (const v of violations) {
      const playlist = playlistKey(v.url);
      const key = `${v.rule} ${playlist}`;
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, g = { rule: v.rule, playlist, count: 0, examples: [], seen: new Set() });
      const sighting = v.lineText ?? v.message;
      if (g.seen.has(sighting)) continue;
      g.seen.add(sighting);
      g.count++;
      if (g.examples.length < this.examplesPerGroup) g.examples.push(v);
    }
  }

  /** Distinct violations seen, over all groups. */
  get total(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.count;
    return n;
  }

  /** The groups, by rule then playlist. */
  list(): ViolationGroup[] {
    return [...this.groups.values()].map(({ seen: _seen, ...g }) => g)
      .sort((a, b) => (a.rule === b.rule ? (a.playlist < b.playlist ? -1 : 1) : a.rule < b.rule ? -1 : 1));
  }
}

/** A readable report: per rule, its text, then per playlist the count and examples with their lines. */
export function formatViolations(groups: readonly ViolationGroup[]): string {
  if (groups.length === 0) return 'no violations';
  const out: string[] = [];
  let rule: RuleId | undefined;
  for (const g of groups) {
    if (g.rule !== rule) {
      rule = g.rule;
      out.push(`${g.rule}: ${RULES[g.rule]}`);
    }
    out.push(`  ${g.playlist}: ${g.count} distinct`);
    for (const v of g.examples) {
      out.push(`    - ${v.message}`);
      if (v.excerpt !== undefined) out.push(...v.excerpt.split('\n').map((l) => `      | ${l}`));
      else if (v.line !== undefined) out.push(`      line ${v.line}: ${v.lineText}`);
      if (v.url !== g.playlist) out.push(`      in ${v.url}`);
    }
  }
  return out.join('\n');
}
