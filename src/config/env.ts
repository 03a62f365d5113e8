import { z } from 'zod';

/**
 * The environment form of config keys: SIGMA__ then the key path, one segment per key joined by
 * `__`, each key in UPPER_SNAKE: camelCase splits at its capitals, `-` becomes `_`, digits stay
 * (http2.cleartextPort ▶ SIGMA__HTTP2__CLEARTEXT_PORT, latencyModes.ultra-low.partTargetSec ▶
 * SIGMA__LATENCY_MODES__ULTRA_LOW__PART_TARGET_SEC, channels.0.streamKey ▶
 * SIGMA__CHANNELS__0__STREAM_KEY). The schema resolves a name back to its key, so only names of
 * real keys are accepted and `-`, `_` and camelCase are told apart by the keys that exist.
 */
export const ENV_PREFIX = 'SIGMA__';

export type KeyPath = (string | number)[];

/** UPPER_SNAKE of one key: cleartextPort ▶ CLEARTEXT_PORT, ultra-low ▶ ULTRA_LOW, p99Ms ▶ P99_MS. */
export function envSegmentOf(key: string | number): string {
  return String(key).replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toUpperCase();
}

export function envNameOf(path: KeyPath): string {
  return ENV_PREFIX + path.map(envSegmentOf).join('__');
}

/** The schema under defaults, optional, nullable and refinements. */
function unwrap(s: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else return s;
  }
}

type Json = { [k: string]: unknown };

/**
 * The key path an env name's segments name under `schema`, or why none. `existing` is the
 * config merged so far: a record's free-form keys (transcode.ladders.<name>) match the keys it
 * already has, else are taken in lower case. `text`: the key holds text, so its value is taken as
 * written (a stream key of digits stays text).
 */
export function resolveEnvPath(schema: z.ZodTypeAny, segments: string[], existing: unknown): { path: KeyPath; text: boolean } | { error: string } {
  const path: KeyPath = [];
  let s = unwrap(schema), here = existing;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    let key: string | number | undefined, next: z.ZodTypeAny | undefined;
    if (s instanceof z.ZodObject) {
      key = Object.keys(s.shape as Json).find((k) => envSegmentOf(k) === seg);
      if (key === undefined) {
        const where = path.length === 0 ? 'the top level' : path.join('.');
        return { error: `names no config key: ${where} has ${Object.keys(s.shape as Json).map(envSegmentOf).join(', ')}` };
      }
      next = (s.shape as Record<string, z.ZodTypeAny>)[key];
    } else if (s instanceof z.ZodRecord) {
      const keySchema = unwrap(s._def.keyType as z.ZodTypeAny);
      const known = keySchema instanceof z.ZodEnum ? (keySchema.options as string[])
        : here && typeof here === 'object' ? Object.keys(here) : [];
      key = known.find((k) => envSegmentOf(k) === seg) ?? (keySchema instanceof z.ZodEnum ? undefined : seg.toLowerCase());
      if (key === undefined) return { error: `names no config key: ${path.join('.')} has ${known.map(envSegmentOf).join(', ')}` };
      next = s._def.valueType as z.ZodTypeAny;
    } else if (s instanceof z.ZodArray) {
      if (!/^\d+$/.test(seg)) return { error: `names no config key: ${path.join('.')} is a list, its items are numbered (${path.map(envSegmentOf).join('__')}__0__…)` };
      key = Number(seg);
      next = s.element as z.ZodTypeAny;
    } else if (s instanceof z.ZodUnion) {
      // A value that is text or an object (a channel's transcode): the rest of the path must name a key of one option.
      for (const option of s.options as z.ZodTypeAny[]) {
        const inner = resolveEnvPath(option, segments.slice(i), here);
        if ('path' in inner) return { path: [...path, ...inner.path], text: inner.text };
      }
      return { error: `names no config key under ${path.join('.')}` };
    } else {
      return { error: `names no config key: ${path.join('.')} has no keys under it` };
    }
    path.push(key);
    here = here && typeof here === 'object' ? (here as Json)[String(key)] : undefined;
    s = unwrap(next);
  }
  return { path, text: s instanceof z.ZodString || s instanceof z.ZodEnum };
}

/**
 * Every key path of the schema down to its scalars (lists and records of objects as `0` and
 * `<key>` segments), with the schema at each: what the env mapping must reach.
 */
export function leafPaths(schema: z.ZodTypeAny, prefix: KeyPath = []): KeyPath[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodTypeAny>).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  if (s instanceof z.ZodArray && unwrap(s.element as z.ZodTypeAny) instanceof z.ZodObject) return leafPaths(s.element as z.ZodTypeAny, [...prefix, 0]);
  if (s instanceof z.ZodRecord && unwrap(s._def.keyType as z.ZodTypeAny) instanceof z.ZodEnum) {
    return (unwrap(s._def.keyType as z.ZodTypeAny) as z.ZodEnum<[string]>).options.flatMap((k) => leafPaths(s._def.valueType as z.ZodTypeAny, [...prefix, k]));
  }
  return [prefix];
}
