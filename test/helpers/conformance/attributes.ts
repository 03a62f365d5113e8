/**
 * Attribute lists (RFC 8216bis §4.2), read strictly: `NAME=value` pairs separated by commas,
 * names of [A-Z0-9-], values either a quoted-string (which may hold commas) or an unquoted
 * token. Problems are collected rather than thrown, so one bad line is a finding, not a crash.
 */

/** One attribute's value as written. */
export interface AttributeValue {
  /** The value without its quotes. */
  text: string;
  quoted: boolean;
}

/** A parsed attribute list: the values by name, and what was wrong with it. */
export interface AttributeList {
  values: ReadonlyMap<string, AttributeValue>;
  /** What is wrong with the list (PL-04), empty when it is well formed. */
  errors: string[];
}

const PAIR = /([^=,]*)=("[^"\r\n]*"|[^,"]*)(,|$)/y;
const NAME = /^[A-Z0-9-]+$/;

/** Reads `NAME=value,NAME="quoted, with commas"` (§4.2); never throws, problems go to `errors`. */
export function parseAttributeList(list: string): AttributeList {
  const values = new Map<string, AttributeValue>();
  const errors: string[] = [];
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < list.length) {
    const at = PAIR.lastIndex;
    const m = PAIR.exec(list);
    if (!m) {
      errors.push(`cannot read an attribute at "${list.slice(at)}"`);
      break;
    }
    const [, name, raw, separator] = m;
    if (!NAME.test(name)) errors.push(`attribute name "${name}" is not [A-Z0-9-]+`);
    if (values.has(name)) errors.push(`attribute ${name} appears twice`);
    if (raw === '') errors.push(`attribute ${name} has no value`);
    const quoted = raw.startsWith('"');
    values.set(name, { text: quoted ? raw.slice(1, -1) : raw, quoted });
    if (separator === ',' && PAIR.lastIndex === list.length) errors.push('trailing comma');
  }
  return { values, errors };
}

/** The value of an attribute as text (quoted or not), or undefined when absent. */
export function attrText(list: AttributeList | undefined, name: string): string | undefined {
  return list?.values.get(name)?.text;
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * A decimal-integer or decimal-floating-point attribute: undefined when absent, NaN when
 * present but not a number (an unquoted run of digits with at most one point).
 */
export function attrNumber(list: AttributeList | undefined, name: string): number | undefined {
  const v = list?.values.get(name);
  if (!v) return undefined;
  return !v.quoted && DECIMAL.test(v.text) ? Number(v.text) : NaN;
}

/** A decimal-integer attribute: undefined when absent, NaN when present but not one. */
export function attrInteger(list: AttributeList | undefined, name: string): number | undefined {
  const v = list?.values.get(name);
  if (!v) return undefined;
  return !v.quoted && /^\d+$/.test(v.text) ? Number(v.text) : NaN;
}

/** The attributes as one comparable string (names sorted), for "did it change" checks. */
export function canonicalAttributes(list: AttributeList | undefined): string {
  if (!list) return '';
  return [...list.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v.quoted ? `"${v.text}"` : v.text}`).join(',');
}
