import { accessSync, constants, readFileSync } from 'node:fs';
import { configSchema, type Config } from './schema.js';
import { ENV_PREFIX, resolveEnvPath, type KeyPath } from './env.js';

/** A config mistake: every problem found, one per line, each naming its key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Json = { [k: string]: unknown };

/** Sets a key, making the objects (and, for a numbered segment, the lists) on the way. */
function setPath(target: Json, path: KeyPath, value: unknown): void {
  let obj = target;
  path.slice(0, -1).forEach((key, i) => {
    if (typeof obj[key] !== 'object' || obj[key] === null) obj[key] = typeof path[i + 1] === 'number' ? [] : {};
    obj = obj[key] as Json;
  });
  obj[path[path.length - 1]] = value;
}

/** Env and CLI values are text: numbers, booleans, null and JSON arrays/objects are read as such. */
function parseScalar(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  if (/^[[{]/.test(text)) {
    try { return JSON.parse(text); } catch { /* keep as text; the schema will say what is wrong */ }
  }
  return text;
}

/** Flags that take no value. */
const BARE_FLAGS: Record<string, string> = { demo: 'true' };

export interface LoadSources {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Read a file; injected by tests. */
  readFile?: (path: string) => string;
  /** Throws when a file the config names (a slate image) cannot be read; injected by tests. */
  checkReadable?: (path: string) => void;
}

/**
 * Builds the config: JSON file (--config FILE or SIGMA_CONFIG) ▶ env (LOG_LEVEL, then
 * SIGMA__A__B=value, src/config/env.ts) ▶ CLI (--a.b=value or --a.b value; --demo). With no
 * config file and `demo` unset, `demo` is 'auto': the origin runs the demo channel when no channel
 * exists (src/origin.ts).
 */
export function loadConfig(src: LoadSources = {}): Config {
  const argv = src.argv ?? process.argv.slice(2);
  const env = src.env ?? process.env;
  const readFile = src.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const problems: string[] = [];
  let raw: Json = {};

  const cli: [string, string][] = [];
  let configFile = env.SIGMA_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { problems.push(`unexpected argument "${arg}" (flags look like --http.port=8080)`); continue; }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value = eq >= 0 ? arg.slice(eq + 1) : BARE_FLAGS[name] ?? argv[i + 1];
    if (eq < 0 && !(name in BARE_FLAGS)) {
      if (value === undefined || value.startsWith('--')) { problems.push(`flag --${name} needs a value`); continue; }
      i++;
    }
    if (name === 'config') configFile = value;
    else cli.push([name, value!]);
  }

  if (configFile) {
    try {
      const parsed: unknown = JSON.parse(readFile(configFile));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push(`${configFile}: the top level must be a JSON object`);
      else raw = parsed as Json;
    } catch (e) {
      problems.push(`${configFile}: ${(e as Error).message}`);
    }
  }
  // LOG_LEVEL, the name every Node service reads, is log.level; SIGMA__LOG__LEVEL and --log.level still win.
  if (env.LOG_LEVEL !== undefined && env.LOG_LEVEL !== '') setPath(raw, ['log', 'level'], env.LOG_LEVEL);
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV_PREFIX) || v === undefined) continue;
    const key = resolveEnvPath(configSchema, k.slice(ENV_PREFIX.length).split('__'), raw);
    if ('error' in key) problems.push(`${k} (environment): ${key.error}`);
    else setPath(raw, key.path, key.text ? v : parseScalar(v));
  }
  for (const [name, value] of cli) setPath(raw, name.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), parseScalar(value));
  // A first `npm start`: no file, the demo not asked for nor refused; the origin decides once it sees the database.
  if (!configFile && raw.demo === undefined) raw.demo = 'auto';

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      const msg = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      problems.push(`${where}: ${msg}`);
    }
  }
  const checkReadable = src.checkReadable ?? ((p: string) => accessSync(p, constants.R_OK));
  result.data?.channels.forEach((c, i) => {
    const image = c.failover.slateImage;
    if (image === undefined) return;
    try {
      checkReadable(image);
    } catch (e) {
      problems.push(`channels.${i}.failover.slateImage: cannot read ${image} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data!;
}
