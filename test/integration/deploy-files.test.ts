import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';

/**
 * The deployment files in deploy/ (README: Deployment), checked on a machine with no container
 * engine and no Kubernetes cluster: nothing here builds an image, starts a container or applies a
 * manifest. What runs for real: systemd-analyze (verify, security) on the unit, nginx -t on the
 * edge config, the Kubernetes API schemas (kubernetes-models: JSON schema through ajv, and the
 * same API types through the TypeScript checker for unknown fields), the origin's own config
 * loader on every config the files give it, and ldd/dpkg on the addon built here. Each check
 * function returns the problems it finds; the "can fail" tests feed it a broken copy.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const ADDON = join(ROOT, 'build', 'Release', 'sigma_native.node');

type Obj = Record<string, any>;

/** The config an origin would run with, or the loader's problems. */
function configOf(env: Record<string, string>, files: Record<string, string> = {}): { config?: Config; problems: string[] } {
  try {
    const config = loadConfig({
      argv: [], env,
      readFile: (p) => {
        if (files[p] === undefined) throw Object.assign(new Error(`ENOENT: no such file ${p}`), { code: 'ENOENT' });
        return files[p];
      },
      checkReadable: () => undefined,
    });
    return { config, problems: [] };
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems };
    throw e;
  }
}

/** The listening ports of a config, by the container port names the manifests use. */
function configPorts(c: Config): Record<string, number> {
  const p: Record<string, number> = {};
  if (c.rtmp.enabled) p.rtmp = c.rtmp.port;
  if (c.srt.enabled) p.srt = c.srt.port; // UDP
  if (c.rtmps.enabled) p.rtmps = c.rtmps.port;
  if (c.http.enabled) p.http = c.http.port;
  if (c.api.enabled) p.api = c.api.port;
  if (c.http2.enabled) p.h2 = c.http2.port;
  if (c.http2.enabled && c.http2.cleartextPort !== null) p.h2c = c.http2.cleartextPort;
  return p;
}

// ---------------------------------------------------------------- Dockerfile

interface Instruction { cmd: string; args: string; line: number }
interface Stage { base: string; name?: string; instructions: Instruction[] }

/** A small Dockerfile parser: continuation lines joined, comments dropped, ARGs before the first FROM substituted into FROM. */
export function parseDockerfile(text: string): { stages: Stage[]; globalArgs: Record<string, string> } {
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      if (!/^\s*#/.test(lines[i])) line += lines[i];
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line.trim());
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read "${line.trim()}"`);
    const cmd = m[1].toUpperCase(), args = m[2].replace(/\s+/g, ' ').trim();
    if (cmd === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`Dockerfile line ${start}: cannot read FROM ${args}`);
      const base = f[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => globalArgs[a ?? b] ?? '');
      stages.push({ base, name: f[2], instructions: [] });
    } else if (stages.length === 0) {
      if (cmd !== 'ARG') throw new Error(`Dockerfile line ${start}: ${cmd} before the first FROM`);
      const a = /^(\w+)(?:=(.*))?$/.exec(args);
      if (a) globalArgs[a[1]] = a[2] ?? '';
    } else {
      stages[stages.length - 1].instructions.push({ cmd, args, line: start });
    }
  }
  return { stages, globalArgs };
}

/** Packages named by `apt-get install` in a stage's RUN instructions. */
function aptInstalled(stage: Stage): string[] {
  const out: string[] = [];
  for (const i of stage.instructions.filter((x) => x.cmd === 'RUN')) {
    for (const m of i.args.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) out.push(...m[1].split(/\s+/).filter((w) => w !== '' && !w.startsWith('-')));
  }
  return out;
}

/** ENV of a stage (both the `K=V K2=V2` and the legacy `K V` forms). */
function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.cmd === 'ENV')) {
    if (!i.args.includes('=')) { const [k, ...v] = i.args.split(' '); env[k] = v.join(' '); continue; }
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

/** Exec-form (JSON array) or shell-form arguments of CMD, HEALTHCHECK CMD, VOLUME. */
function words(args: string): string[] {
  const s = args.trim();
  if (s.startsWith('[')) return JSON.parse(s) as string[];
  return s.split(' ');
}

/** Whether a build-context path is left out by a .dockerignore (plain names and * globs, as this repository's file uses). */
function dockerIgnored(path: string, ignore: string): boolean {
  const patterns = ignore.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const segments = path.replace(/^\.?\//, '').replace(/\/$/, '').split('/');
  return patterns.some((p) => {
    const re = new RegExp('^' + p.replace(/\/$/, '').replace(/[.+^$()|[\]{}]/g, '\\$&').replace(/\*/g, '[^/]*') + '$');
    return segments.some((_, i) => re.test(segments.slice(0, i + 1).join('/')));
  });
}

interface Libav { direct: string[]; linked: { soname: string; path: string; pkg: string }[] }

/** The libav* libraries the addon built here links: readelf's NEEDED (direct) and ldd's (all), with their Debian packages. */
function addonLibav(): Libav {
  const readelf = spawnSync('readelf', ['-d', ADDON], { encoding: 'utf8' });
  if (readelf.status !== 0) throw new Error(`readelf -d ${ADDON}: ${readelf.stderr}`);
  const isLibav = (so: string) => /^lib(av[a-z]+|sw[a-z]+|postproc)\.so/.test(so);
  const direct = [...readelf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]).filter(isLibav);
  const ldd = spawnSync('ldd', [ADDON], { encoding: 'utf8' });
  if (ldd.status !== 0) throw new Error(`ldd ${ADDON}: ${ldd.stderr}`);
  const linked = [...ldd.stdout.matchAll(/^\s*(\S+) => (\/\S+)/gm)].filter((m) => isLibav(m[1])).map((m) => {
    const real = realpathSync(m[2]);
    const s = spawnSync('dpkg', ['-S', real], { encoding: 'utf8' });
    const pkg = s.status === 0 ? s.stdout.split('\n')[0].split(':')[0] : `(no package owns ${real})`;
    return { soname: m[1], path: real, pkg };
  });
  return { direct, linked };
}

/** Installed libav-family packages reachable from `roots` through Depends (dpkg-query on this machine). */
function libavDependencyClosure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const q = spawnSync('dpkg-query', ['-W', '-f=${Depends}', p], { encoding: 'utf8' });
    if (q.status !== 0) continue;
    for (const dep of q.stdout.split(',')) {
      const name = dep.trim().split(/[\s|(:]/)[0];
      if (/^lib(av|sw|postproc)/.test(name)) todo.push(name);
    }
  }
  return seen;
}

interface DockerContext { libav?: Libav; defaultConfig: Config; exists: (rel: string) => boolean; ignore: string; needsFfmpeg: boolean }

export function dockerfileProblems(text: string, ctx: DockerContext): string[] {
  const problems: string[] = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2) return [`not multi-stage: ${stages.length} stage(s)`];
  const final = stages[stages.length - 1];
  const builders = stages.slice(0, -1);
  const runs = (s: Stage) => s.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.args).join('\n');
  const last = (s: Stage, cmd: string) => s.instructions.filter((i) => i.cmd === cmd).at(-1);

  if (!/^node:20(\.[\d.]+)?-bookworm-slim$/.test(final.base)) problems.push(`runtime base is ${final.base}, not node:20-bookworm-slim`);
  if (builders.every((s) => s.base !== final.base)) problems.push('no build stage on the runtime\'s base image (the addons would be built for another Node or libav)');
  const build = builders.find((s) => /node-gyp rebuild/.test(runs(s)));
  if (!build) problems.push('no build stage runs node-gyp rebuild');
  else {
    if (!/\btsc\b/.test(runs(build))) problems.push('the build stage runs no tsc');
    const pkgs = aptInstalled(build);
    for (const p of ['g++', 'make', 'python3']) if (!pkgs.includes(p)) problems.push(`the build stage does not install ${p}`);
    for (const so of ctx.libav?.direct ?? []) {
      const dev = `${so.replace(/\.so.*$/, '')}-dev`;
      if (!pkgs.includes(dev)) problems.push(`the build stage does not install ${dev} (the addon links ${so})`);
    }
  }
  if (!/npm (ci|install)\b[^\n]*--omit=dev|npm prune\b[^\n]*--omit=dev/.test(stages.map(runs).join('\n'))) problems.push('node_modules is not pruned of dev packages (npm ci/prune --omit=dev)');

  // Runtime: the libav* runtime packages the addon links, nothing to build with, ffmpeg only if spawned.
  const runtimePkgs = aptInstalled(final);
  for (const p of runtimePkgs) {
    if (/-dev$|^(g\+\+|gcc|make|python3|build-essential)$/.test(p)) problems.push(`the runtime stage installs ${p}, a build tool`);
  }
  if (runtimePkgs.includes('ffmpeg') && !ctx.needsFfmpeg) problems.push('the runtime stage installs ffmpeg, but the origin spawns no ffmpeg (src/)');
  if (!runtimePkgs.includes('ffmpeg') && ctx.needsFfmpeg) problems.push('the origin spawns ffmpeg but the runtime stage does not install it');
  if (ctx.libav) {
    const closure = libavDependencyClosure(runtimePkgs);
    for (const so of ctx.libav.direct) {
      const lib = ctx.libav.linked.find((l) => l.soname === so);
      if (!lib) problems.push(`ldd does not resolve ${so}`);
      else if (!runtimePkgs.includes(lib.pkg)) problems.push(`the runtime stage does not install ${lib.pkg} (the addon links ${so} directly)`);
    }
    for (const lib of ctx.libav.linked) {
      if (!closure.has(lib.pkg)) problems.push(`${lib.soname} (${lib.pkg}, linked through ldd) is not installed by the runtime stage nor a dependency of what it installs`);
    }
  }

  // User, health check, volume, ports, command.
  const user = last(final, 'USER')?.args.split(':')[0];
  if (!user) problems.push('the runtime stage has no USER (it would run as root)');
  else if (user === 'root' || user === '0') problems.push(`the runtime stage runs as ${user}`);
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user} is a name: Kubernetes' runAsNonRoot can only check a numeric uid`);
  const env = stageEnv(final);
  const dataDir = env.SIGMA__DATA_DIR;
  const cfg = configOf(env);
  if (cfg.problems.length > 0) problems.push(`the runtime ENV is not a valid origin config: ${cfg.problems.join('; ')}`);
  if (!dataDir) problems.push('the runtime stage sets no SIGMA__DATA_DIR (dataDir would be ./data under /app)');
  const volumes = final.instructions.filter((i) => i.cmd === 'VOLUME').flatMap((i) => words(i.args));
  if (dataDir && !volumes.includes(dataDir)) problems.push(`no VOLUME for the data dir ${dataDir} (VOLUME ${volumes.join(' ') || 'none'})`);
  const hc = last(final, 'HEALTHCHECK');
  const httpPort = (cfg.config ?? ctx.defaultConfig).http.port;
  if (!hc) problems.push('no HEALTHCHECK');
  else {
    const m = /\bCMD\s+([\s\S]*)$/.exec(hc.args);
    const cmdLine = m ? words(m[1]).join(' ') : '';
    if (!new RegExp(`https?://(127\\.0\\.0\\.1|localhost):${httpPort}/readyz\\b`).test(cmdLine)) problems.push(`HEALTHCHECK does not poll the readiness URL http://127.0.0.1:${httpPort}/readyz: ${cmdLine}`);
    if (/\bcurl\b|\bwget\b/.test(cmdLine) && !runtimePkgs.some((p) => p === 'curl' || p === 'wget')) problems.push('HEALTHCHECK calls curl/wget, which the slim image lacks');
  }
  const exposed = final.instructions.filter((i) => i.cmd === 'EXPOSE').flatMap((i) => i.args.split(' ')).map((p) => Number(p.split('/')[0]));
  for (const [name, port] of Object.entries(configPorts(cfg.config ?? ctx.defaultConfig))) {
    if (!exposed.includes(port)) problems.push(`EXPOSE lacks ${port} (${name})`);
  }
  const cmd = last(final, 'CMD') ?? last(final, 'ENTRYPOINT');
  const cmdWords = cmd ? words(cmd.args) : [];
  if (cmdWords[0] !== 'node' || !cmdWords[1]) problems.push(`CMD does not run node directly: ${cmd?.args ?? 'none'} (npm start would run scripts/bootstrap.sh)`);
  else if (!ctx.exists(cmdWords[1].replace(/^dist\//, '').replace(/\.js$/, '.ts'))) problems.push(`CMD runs ${cmdWords[1]}, built from no source file`);

  // Every COPY: a source in the build context (there and not ignored), or an earlier stage's.
  stages.forEach((s, si) => {
    for (const i of s.instructions.filter((x) => x.cmd === 'COPY' || x.cmd === 'ADD')) {
      const parts = i.args.split(' ');
      const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
      const paths = parts.filter((p) => !p.startsWith('--')).slice(0, -1);
      if (from !== undefined) {
        if (!stages.slice(0, si).some((x) => x.name === from)) problems.push(`line ${i.line}: COPY --from=${from}: no earlier stage of that name`);
        continue;
      }
      for (const p of paths) {
        if (!ctx.exists(p)) problems.push(`line ${i.line}: COPY source ${p} does not exist in the repository`);
        else if (dockerIgnored(p, ctx.ignore)) problems.push(`line ${i.line}: COPY source ${p} is excluded by Dockerfile.dockerignore`);
      }
    }
  });
  return problems;
}

// ---------------------------------------------------------------- nginx config

interface Directive { name: string; args: string[]; block?: Directive[] }

/** nginx's config syntax: directives `name args;` and blocks `name args { … }`, # comments, quoted strings. */
export function parseNginx(text: string): Directive[] {
  const tokens: string[] = [];
  const re = /#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)/g;
  for (const m of text.matchAll(re)) {
    if (m[0].startsWith('#')) continue;
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  let i = 0;
  const block = (): Directive[] => {
    const out: Directive[] = [];
    while (i < tokens.length) {
      if (tokens[i] === '}') { i++; return out; }
      const d: Directive = { name: tokens[i++], args: [] };
      while (i < tokens.length && tokens[i] !== ';' && tokens[i] !== '{') d.args.push(tokens[i++]);
      if (tokens[i] === '{') { i++; d.block = block(); } else i++;
      out.push(d);
    }
    return out;
  };
  return block();
}

function walkNginx(ds: Directive[], fn: (d: Directive, path: Directive[]) => void, path: Directive[] = []): void {
  for (const d of ds) {
    fn(d, path);
    if (d.block) walkNginx(d.block, fn, [...path, d]);
  }
}

// ---------------------------------------------------------------- compose

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a $ left for the container's shell. */
function interpolate(value: unknown, env: Record<string, string>, missing: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (whole: string, name: string, op: string | undefined, arg: string) => {
      if (whole === '$$') return '$';
      const v = env[name];
      const unset = v === undefined || (op?.startsWith(':') && v === '');
      if (!unset) return v!;
      if (op?.endsWith('?')) { missing.push(`${name} (${arg})`); return ''; }
      if (op?.endsWith('-')) return arg;
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, missing));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, missing)]));
  return value;
}

function envMap(environment: unknown): Record<string, string> {
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((e: string) => { const i = e.indexOf('='); return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; }));
  }
  return Object.fromEntries(Object.entries((environment ?? {}) as Obj).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Seconds of a compose duration (30s, 1m30s, 500ms). */
function durationSec(d: unknown): number {
  if (typeof d === 'number') return d;
  let total = 0;
  for (const m of String(d).matchAll(/(\d+(?:\.\d+)?)(ms|us|s|m|h)/g)) total += Number(m[1]) * { ms: 0.001, us: 1e-6, s: 1, m: 60, h: 3600 }[m[2] as 'ms']!;
  return total;
}

/** Values for the variables compose.yaml requires, as a user would export them (each distinct, so a check can tell where one went). */
const COMPOSE_VARS = { SIGMA_SECRET: 'c'.repeat(64), POSTGRES_PASSWORD: 'pw0123456789abcdef', OBJECT_STORE_USER: 'store-user', OBJECT_STORE_PASSWORD: 'store-pw-0123456789' };

interface ComposeContext { dockerfile: string; edgeConf: string; defaultConfig: Config; exists: (rel: string) => boolean }

export function composeProblems(text: string, ctx: ComposeContext): string[] {
  const problems: string[] = [];
  const missing: string[] = [];
  const raw = parseYaml(text, { merge: true }) as Obj;
  const doc = interpolate(raw, COMPOSE_VARS, missing) as Obj;
  if (missing.length > 0) problems.push(`required variables not set by the test: ${missing.join(', ')}`);
  const services = (doc.services ?? {}) as Record<string, Obj>;
  const names = Object.keys(services);
  const imageEnv = stageEnv(parseDockerfile(ctx.dockerfile).stages.at(-1)!);
  const dockerfileHasHealthcheck = /^\s*HEALTHCHECK\s+(?!NONE)/m.test(ctx.dockerfile);

  // The origins: services built from deploy/Dockerfile.
  const origins = names.filter((n) => {
    const b = services[n].build;
    return b && typeof b === 'object' && String(b.dockerfile ?? '').replace(/^\.\//, '') === 'deploy/Dockerfile';
  });
  if (origins.length !== 2) problems.push(`expected two origins built from deploy/Dockerfile, found ${origins.length}: ${origins.join(', ')}`);
  for (const o of origins) {
    const b = services[o].build as Obj;
    const context = join(DEPLOY, String(b.context ?? '.'));
    if (!existsSync(join(context, String(b.dockerfile)))) problems.push(`${o}: build context ${b.context} has no ${b.dockerfile}`);
  }
  const envs = Object.fromEntries(origins.map((o) => [o, envMap(services[o].environment)]));
  const configs: Record<string, Config> = {};
  for (const o of origins) {
    const e = envs[o];
    for (const key of ['SIGMA__SECRET', 'SIGMA__DATABASE__URL']) {
      if (!e[key]) problems.push(`${o}: no ${key}`);
      else if (origins.some((x) => envs[x][key] !== e[key])) problems.push(`${o}: ${key} differs between the origins`);
    }
    const cfg = configOf({ ...imageEnv, ...e });
    if (cfg.problems.length > 0) { problems.push(`${o}: the origin would not start: ${cfg.problems.join('; ')}`); continue; }
    const c = configs[o] = cfg.config!;
    if (!c.database.url?.startsWith('postgres')) problems.push(`${o}: database.url is not PostgreSQL: ${c.database.url}`);
    const mounts = ((services[o].volumes ?? []) as unknown[]).map((v) => typeof v === 'string' ? v.split(':')[1] : (v as Obj).target);
    if (!mounts.includes(c.dataDir)) problems.push(`${o}: no volume at the data dir ${c.dataDir}`);
    const ports = ((services[o].ports ?? []) as unknown[]).map((p) => Number(String(p).split(':').at(-1)!.split('/')[0]));
    for (const p of ports) if (!Object.values(configPorts(c)).includes(p)) problems.push(`${o}: publishes container port ${p}, on which the origin does not listen`);
    if (durationSec(services[o].stop_grace_period ?? '10s') < c.shutdown.drainSec + 10) problems.push(`${o}: stop_grace_period ${services[o].stop_grace_period ?? '10s (default)'} is under shutdown.drainSec + 10 s`);
    const dep = (services[o].depends_on ?? {}) as Obj;
    if (Array.isArray(dep)) problems.push(`${o}: depends_on without conditions (a list)`);
  }
  const ids = origins.map((o) => configs[o]?.analytics.originId);
  if (new Set(ids).size !== ids.length || ids.includes(undefined)) problems.push(`the origins need distinct analytics.originId values: ${ids.join(', ')}`);

  // The database the URL names.
  const url = origins.length > 0 ? envs[origins[0]].SIGMA__DATABASE__URL : undefined;
  if (url) {
    const u = new URL(url);
    const db = services[u.hostname];
    if (!db) problems.push(`database.url names host ${u.hostname}, which is no service`);
    else {
      const e = envMap(db.environment);
      if (!/^postgres(:|$)/.test(String(db.image))) problems.push(`${u.hostname} is not a postgres image: ${db.image}`);
      if (e.POSTGRES_USER !== decodeURIComponent(u.username)) problems.push(`database.url user ${u.username} is not POSTGRES_USER ${e.POSTGRES_USER}`);
      if (e.POSTGRES_PASSWORD !== decodeURIComponent(u.password)) problems.push('database.url password is not POSTGRES_PASSWORD');
      if (e.POSTGRES_DB !== u.pathname.slice(1)) problems.push(`database.url database ${u.pathname.slice(1)} is not POSTGRES_DB ${e.POSTGRES_DB}`);
      for (const o of origins) {
        if (((services[o].depends_on ?? {}) as Obj)[u.hostname]?.condition !== 'service_healthy') problems.push(`${o}: does not wait for ${u.hostname} to be healthy (depends_on condition service_healthy)`);
      }
    }
  }

  // Every depends_on waits for a state that says the target can be used: healthy, for a service
  // with a health check; completed, for a one-shot job (which must not be restarted forever).
  for (const n of names) {
    for (const [target, spec] of Object.entries((services[n].depends_on ?? {}) as Obj)) {
      if (!services[target]) { problems.push(`${n}: depends_on ${target}, which is no service`); continue; }
      const condition = (spec as Obj)?.condition;
      if (condition === 'service_healthy') {
        const hasCheck = services[target].healthcheck ? services[target].healthcheck.disable !== true : origins.includes(target) && dockerfileHasHealthcheck;
        if (!hasCheck) problems.push(`${n}: waits for ${target} to be healthy, but ${target} has no health check`);
      } else if (condition === 'service_completed_successfully') {
        const restart = String(services[target].restart ?? 'no');
        if (restart === 'always' || restart === 'unless-stopped') problems.push(`${n}: waits for ${target} to complete, but ${target} has restart: ${restart}, which starts it again whenever it ends`);
      } else problems.push(`${n}: depends_on ${target} without condition service_healthy (or service_completed_successfully, for a one-shot job)`);
    }
  }

  // Host ports: none published twice.
  const hostPorts = names.flatMap((n) => ((services[n].ports ?? []) as unknown[]).map((p) => { const parts = String(p).split(':'); return parts.length > 1 ? parts.at(-2)! : ''; })).filter((p) => p !== '');
  const dup = hostPorts.filter((p, i) => hostPorts.indexOf(p) !== i);
  if (dup.length > 0) problems.push(`host ports published twice: ${dup.join(', ')}`);

  // The edge: nginx with deploy/nginx/edge.conf, waiting for both origins, its upstreams naming both.
  const edges = names.filter((n) => ((services[n].volumes ?? []) as unknown[]).some((v) => String(typeof v === 'string' ? v : (v as Obj).source).includes('nginx/edge.conf')));
  if (edges.length !== 1) problems.push(`expected one service mounting nginx/edge.conf, found ${edges.length}`);
  for (const e of edges) {
    const mount = ((services[e].volumes ?? []) as unknown[]).map(String).find((v) => v.includes('edge.conf'))!;
    if (!ctx.exists(join('deploy', mount.split(':')[0]))) problems.push(`${e}: mounts ${mount.split(':')[0]}, which does not exist beside compose.yaml`);
    for (const o of origins) {
      if (((services[e].depends_on ?? {}) as Obj)[o]?.condition !== 'service_healthy') problems.push(`${e}: does not wait for ${o} to be healthy`);
    }
  }
  problems.push(...edgeProblems(ctx.edgeConf, origins, origins.map((o) => configs[o] ?? ctx.defaultConfig)));

  const stack: ComposeStack = { services, rawServices: (raw?.services ?? {}) as Record<string, Obj>, origins, envs, configs };
  problems.push(...objectStoreProblems(stack), ...originUrlProblems(stack));
  return problems;
}

/** What compose.yaml sets up, as the object-store and cluster checks read it. */
interface ComposeStack {
  services: Record<string, Obj>;
  /** The services before interpolation, to tell a required variable from a default. */
  rawServices: Record<string, Obj>;
  origins: string[];
  envs: Record<string, Record<string, string>>;
  /** Each origin's config, for those whose config loads. */
  configs: Record<string, Config>;
}

const urlOf = (s: string | undefined): URL | undefined => { try { return s ? new URL(s) : undefined; } catch { return undefined; } };
const dependsOn = (s: Obj, target: string): string | undefined => ((s.depends_on ?? {}) as Obj)[target]?.condition;

/** A compose host-port mapping bound to loopback only ("127.0.0.1:9000:9000", or host_ip in the long form). */
function loopbackOnly(p: unknown): boolean {
  const host = typeof p === 'object' && p !== null ? (p as Obj).host_ip : String(p).split(':').length === 3 ? String(p).split(':')[0] : undefined;
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** A service's entrypoint and command as its shell runs them: $VAR and ${VAR} from its environment, quotes dropped (enough to read mc's arguments). */
function serviceScript(s: Obj): string {
  const env = envMap(s.environment);
  const parts = [s.entrypoint, s.command].flatMap((x) => x === undefined ? [] : Array.isArray(x) ? x.map(String) : [String(x)]);
  return parts.join(' ').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string) => env[a ?? b] ?? '').replace(/["']/g, '');
}

/** The MinIO client's `mc alias set NAME URL USER PASSWORD` and `mc mb [flags] ALIAS/BUCKET` in a script. */
function mcCommands(script: string): { aliases: Map<string, { url: string; user: string; password: string }>; buckets: { alias: string; bucket: string; flags: string[] }[] } {
  const aliases = new Map<string, { url: string; user: string; password: string }>();
  const buckets: { alias: string; bucket: string; flags: string[] }[] = [];
  for (const command of script.split(/&&|\|\||;|\n/)) {
    const words = command.trim().split(/\s+/);
    const mc = words.findIndex((w) => w === 'mc' || w.endsWith('/mc'));
    if (mc < 0) continue;
    const args = words.slice(mc + 1);
    const flags = args.filter((a) => a.startsWith('-')), rest = args.filter((a) => !a.startsWith('-'));
    if (rest[0] === 'alias' && rest[1] === 'set') aliases.set(rest[2], { url: rest[3], user: rest[4], password: rest[5] });
    if (rest[0] === 'mb') {
      for (const target of rest.slice(1).filter((t) => t.includes('/'))) {
        const [alias, ...path] = target.split('/');
        buckets.push({ alias, bucket: path.join('/').replace(/\/$/, ''), flags });
      }
    }
  }
  return { aliases, buckets };
}

/**
 * The origins' objectStore: one bucket for both, at an endpoint naming the store service (MinIO)
 * on its S3 port, path-style; the credentials reach them only as the AWS SDK's AWS_* variables,
 * equal to the store's root user, which comes from required variables (no default password),
 * and in no config key; the S3 API published on loopback only; a one-shot job creates the bucket
 * (the origins do not) and every origin waits for it to have succeeded.
 */
function objectStoreProblems({ services, rawServices, origins, envs, configs }: ComposeStack): string[] {
  const problems: string[] = [];
  const loaded = origins.filter((o) => configs[o]);
  for (const o of loaded) {
    const s = configs[o].objectStore;
    if (!s.bucket) problems.push(`${o}: objectStore.bucket is not set: the archive and recordings stay on its own disk only`);
    if (!s.endpoint) problems.push(`${o}: objectStore.endpoint is not set: the origin would go to AWS S3, not to the compose object store`);
    if (s.forcePathStyle === false) problems.push(`${o}: objectStore.forcePathStyle is false: virtual-hosted URLs (<bucket>.<host>) do not resolve on the compose network`);
  }
  // Any origin lists, serves and deletes every recording: they must all use the same bucket.
  for (const key of ['bucket', 'endpoint', 'region', 'prefix'] as const) {
    const values = new Set(loaded.map((o) => configs[o].objectStore[key]));
    if (values.size > 1) problems.push(`objectStore.${key} differs between the origins (${[...values].join(', ')}): they share one bucket`);
  }
  const first = loaded.length > 0 ? configs[loaded[0]].objectStore : undefined;
  const endpoint = urlOf(first?.endpoint);
  if (!first?.bucket || !endpoint) return problems;

  // The store the endpoint names.
  const storeName = endpoint.hostname, store = services[storeName];
  if (!store) return [...problems, `objectStore.endpoint ${first.endpoint} names host ${storeName}, which is no service`];
  if (!/^(quay\.io\/)?minio\/minio(:|@|$)/.test(String(store.image))) return [...problems, `${storeName} (objectStore.endpoint) is not a MinIO server: image ${store.image}`];
  const s3Port = Number(/--address[= ]\S*:(\d+)/.exec(serviceScript(store))?.[1] ?? 9000);
  if (Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)) !== s3Port) problems.push(`objectStore.endpoint ${first.endpoint} is not ${storeName}'s S3 port ${s3Port}`);
  for (const p of (store.ports ?? []) as unknown[]) {
    if (!loopbackOnly(p)) problems.push(`${storeName}: publishes ${typeof p === 'string' ? p : JSON.stringify(p)} on every interface: the S3 API with the origins' credentials belongs on 127.0.0.1 only`);
  }

  // Credentials: the store's root user, from required variables; to the origins as AWS_* only.
  const storeEnv = envMap(store.environment), rawStoreEnv = envMap(rawServices[storeName]?.environment);
  const pairs = [['AWS_ACCESS_KEY_ID', 'MINIO_ROOT_USER'], ['AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD']] as const;
  for (const [, minio] of pairs) {
    if (!/^\$\{\w+:?\?[^}]*\}$/.test(rawStoreEnv[minio] ?? '')) problems.push(`${storeName}: ${minio} is ${rawStoreEnv[minio] ?? 'not set'}, not a required variable (\${VAR:?…}): a default would be the same on every install`);
  }
  for (const o of origins) {
    for (const [aws, minio] of pairs) {
      if (!envs[o][aws] || envs[o][aws] !== storeEnv[minio]) problems.push(`${o}: ${aws} is not ${storeName}'s ${minio} (the AWS SDK in the origin reads its credentials from ${aws})`);
    }
    const secret = storeEnv.MINIO_ROOT_PASSWORD;
    const inConfig = Object.keys(envs[o]).filter((k) => k.startsWith('SIGMA__') && secret && envs[o][k].includes(secret));
    if (inConfig.length > 0) problems.push(`${o}: the object store's secret key is in config key(s) ${inConfig.join(', ')}: credentials reach the origin as AWS_* variables only`);
  }

  // The job that creates the bucket, and the origins waiting for it.
  const jobs = Object.keys(services).flatMap((n) => {
    const { aliases, buckets } = mcCommands(serviceScript(services[n]));
    return buckets.filter((b) => b.bucket === first.bucket).map((b) => ({ name: n, make: b, alias: aliases.get(b.alias) }));
  });
  if (jobs.length === 0) problems.push(`no service creates the bucket ${first.bucket} (mc mb), and the origins do not create it`);
  for (const { name, make, alias } of jobs) {
    if (!make.flags.some((f) => f === '--ignore-existing' || f === '-p')) problems.push(`${name}: mc mb without --ignore-existing fails on the next \`up\`, the bucket being there, and the origins wait for it to succeed`);
    const at = urlOf(alias?.url);
    if (!alias) problems.push(`${name}: mc mb ${make.alias}/${make.bucket} with no \`mc alias set ${make.alias}\` before it`);
    else if (at?.host !== endpoint.host) problems.push(`${name}: creates the bucket at ${alias.url}, not at the origins' objectStore.endpoint ${first.endpoint}`);
    else if (alias.user !== storeEnv.MINIO_ROOT_USER || alias.password !== storeEnv.MINIO_ROOT_PASSWORD) problems.push(`${name}: mc alias set ${make.alias} does not log in as ${storeName}'s root user`);
    if (dependsOn(services[name], storeName) !== 'service_healthy') problems.push(`${name}: does not wait for ${storeName} to be healthy`);
    for (const o of origins) {
      if (dependsOn(services[o], name) !== 'service_completed_successfully') problems.push(`${o}: does not wait for ${name} to have created the bucket (depends_on condition service_completed_successfully)`);
    }
  }
  return problems;
}

/**
 * cluster.originUrl: where the other origins relay this one's live channels from, so each
 * origin's own service name on the compose network and its HTTP port (not a published host
 * port), one URL per origin.
 */
function originUrlProblems({ origins, configs }: ComposeStack): string[] {
  const problems: string[] = [];
  const urls = origins.filter((o) => configs[o]).map((o) => {
    const c = configs[o], url = c.cluster.originUrl, u = urlOf(url);
    if (!url || !u) { problems.push(`${o}: cluster.originUrl is not set: no placement, so a request reaching the origin without a channel's publisher is not relayed`); return undefined; }
    if (u.hostname !== o) problems.push(`${o}: cluster.originUrl ${url} names ${u.hostname}, not the service ${o} itself`);
    if (u.protocol !== 'http:' || Number(u.port || 80) !== c.http.port) problems.push(`${o}: cluster.originUrl ${url} is not plain http on its HTTP port ${c.http.port}`);
    return url;
  }).filter((u) => u !== undefined);
  if (new Set(urls).size !== urls.length) problems.push(`the origins need distinct cluster.originUrl values: ${urls.join(', ')}`);
  return problems;
}

/** The edge config: upstreams of both origins (one primary), failover, caches, and every proxy_pass to a defined upstream. */
export function edgeProblems(conf: string, origins: string[], configs: Config[]): string[] {
  const problems: string[] = [];
  let ds: Directive[];
  try { ds = parseNginx(conf); } catch (e) { return [`edge.conf: ${(e as Error).message}`]; }
  const http = ds.find((d) => d.name === 'http');
  if (!http?.block) return ['edge.conf: no http block'];
  const upstreams = new Map(http.block.filter((d) => d.name === 'upstream').map((d) => [d.args[0], (d.block ?? []).filter((s) => s.name === 'server')]));
  const httpPorts = new Set(configs.map((c) => String(c.http.port)));
  const delivery = [...upstreams.entries()].find(([, servers]) => servers.some((s) => httpPorts.has(s.args[0].split(':')[1])));
  if (!delivery) problems.push(`edge.conf: no upstream of the origins' HTTP port ${[...httpPorts].join(', ')}`);
  else {
    const [name, servers] = delivery;
    const hosts = servers.map((s) => s.args[0].split(':')[0]);
    for (const o of origins) if (!hosts.includes(o)) problems.push(`edge.conf: upstream ${name} does not name origin ${o}`);
    for (const h of hosts) if (!origins.includes(h)) problems.push(`edge.conf: upstream ${name} names ${h}, which is no origin`);
    for (const s of servers) if (!httpPorts.has(s.args[0].split(':')[1])) problems.push(`edge.conf: ${s.args[0]} is not an origin's HTTP port`);
    const primaries = servers.filter((s) => !s.args.includes('backup'));
    if (primaries.length !== 1) problems.push(`edge.conf: upstream ${name} has ${primaries.length} primary servers; the origins' playlists differ, so one is primary and the others are backup`);
  }
  const next = new Set<string>();
  walkNginx([http], (d) => { if (d.name === 'proxy_next_upstream') d.args.forEach((a) => next.add(a)); });
  for (const a of ['error', 'timeout', 'http_502', 'http_503', 'http_504']) if (!next.has(a)) problems.push(`edge.conf: proxy_next_upstream lacks ${a}`);
  const zones = new Set<string>();
  walkNginx([http], (d) => { if (d.name === 'proxy_cache_path') { const z = d.args.find((a) => a.startsWith('keys_zone=')); if (z) zones.add(z.slice(10).split(':')[0]); } });
  const locations: { args: string[]; block: Directive[] }[] = [];
  walkNginx([http], (d) => { if (d.name === 'location' && d.block) locations.push({ args: d.args, block: d.block }); });
  const get = (l: { block: Directive[] }, name: string) => l.block.find((d) => d.name === name);
  const matching = (path: string) => {
    // nginx's order: exact, then regex in order, then the longest prefix.
    const exact = locations.find((l) => l.args[0] === '=' && l.args[1] === path);
    if (exact) return exact;
    const regex = locations.find((l) => (l.args[0] === '~' || l.args[0] === '~*') && new RegExp(l.args[1], l.args[0] === '~*' ? 'i' : '').test(path));
    if (regex) return regex;
    return locations.filter((l) => l.args.length === 1 && path.startsWith(l.args[0])).sort((a, b) => b.args[0].length - a.args[0].length)[0];
  };
  const cached = (l: ReturnType<typeof matching>) => l && get(l, 'proxy_cache') && get(l, 'proxy_cache')!.args[0] !== 'off';
  const media = matching('/live/demo/source/1000.3.m4s');
  if (!cached(media)) problems.push('edge.conf: parts and segments (/live/…/*.m4s) are not cached');
  const playlist = matching('/live/demo/source.m3u8');
  if (!cached(playlist)) problems.push('edge.conf: media playlists are not cached');
  else {
    const valid = get(playlist!, 'proxy_cache_valid');
    const ttl = valid ? durationSec(valid.args.at(-1)) : Infinity;
    if (!(ttl > 0 && ttl <= 2)) problems.push(`edge.conf: media playlists are cached ${valid?.args.at(-1) ?? 'as long as the origin says'}, not briefly`);
    const key = get(playlist!, 'proxy_cache_key')?.args[0] ?? '';
    if (!key.includes('$uri') || key.includes('$args') || key.includes('$request_uri') || key.includes('sid')) problems.push(`edge.conf: media playlist cache key ${key} should be $uri and the _HLS_ and token arguments, without sid`);
  }
  if (cached(matching('/live/demo/index.m3u8'))) problems.push('edge.conf: the multivariant playlist (per viewer) is cached');
  for (const l of [media, playlist].filter(Boolean)) {
    const zone = get(l!, 'proxy_cache')?.args[0];
    if (zone && !zones.has(zone)) problems.push(`edge.conf: proxy_cache ${zone} has no proxy_cache_path`);
  }
  walkNginx([http], (d) => {
    if (d.name !== 'proxy_pass') return;
    const host = /^https?:\/\/([^/:]+)/.exec(d.args[0])?.[1];
    if (host && !upstreams.has(host)) problems.push(`edge.conf: proxy_pass to ${host}, which is no upstream`);
  });
  return problems;
}

// ---------------------------------------------------------------- Kubernetes

interface Manifest { file: string; index: number; doc: Obj }
const where = (m: Manifest) => `${m.file}#${m.index}`;

const KINDS: Record<string, { model: new (data: never) => { validate(): void }; module: string; type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
};

export function loadManifests(files: Record<string, string>): { manifests: Manifest[]; problems: string[] } {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    parseAllDocuments(text).forEach((d, index) => {
      if (d.errors.length > 0) { problems.push(`${file}#${index}: ${d.errors.map((e) => e.message).join('; ')}`); return; }
      const doc = d.toJS() as Obj | null;
      if (doc !== null) manifests.push({ file, index, doc });
    });
  }
  return { manifests, problems };
}

/** The Kubernetes API schemas: required fields, types and formats (ajv), one model class per kind. */
export function schemaProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    const kind = KINDS[`${m.doc.apiVersion}/${m.doc.kind}`];
    if (!kind) { problems.push(`${where(m)}: ${m.doc.apiVersion} ${m.doc.kind} is not a kind this test knows`); continue; }
    try { new kind.model(m.doc as never).validate(); } catch (e) { problems.push(`${where(m)}: ${(e as Error).message}`); }
  }
  return problems;
}

/**
 * Fields the API does not know. The JSON schemas allow any extra field (the API server rejects
 * them: kubectl's field validation is strict by default), so each manifest is type-checked as an
 * object literal against the kind's TypeScript type from the same package: excess fields fail.
 */
export function unknownFieldProblems(manifests: Manifest[]): string[] {
  const known = manifests.filter((m) => KINDS[`${m.doc.apiVersion}/${m.doc.kind}`]);
  const file = join(DEPLOY, 'k8s', '__manifest_types__.ts');
  let src = '';
  const ranges: { from: number; to: number; m: Manifest }[] = [];
  known.forEach((m, i) => { const k = KINDS[`${m.doc.apiVersion}/${m.doc.kind}`]; src += `import type { ${k.type} as T${i} } from '${k.module}';\n`; });
  known.forEach((m, i) => {
    const from = src.split('\n').length;
    src += `export const m${i}: T${i} = ${JSON.stringify(m.doc, null, 1)};\n`;
    ranges.push({ from, to: src.split('\n').length, m });
  });
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => f === file ? ts.createSourceFile(f, src, lang) : getSourceFile(f, lang, ...rest);
  const fileExists = host.fileExists.bind(host), readFile = host.readFile.bind(host);
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => f === file ? src : readFile(f);
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
    const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
    const r = ranges.find((x) => line >= x.from && line < x.to);
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    return `${r ? where(r.m) : 'imports'}: ${msg}`;
  });
}

/** The image's ENV, user and data dir, for the pods. */
interface ImageFacts { env: Record<string, string>; uid: number; dataDir: string }

/** Cross-references and the origin's own view of its config in each pod. */
export function k8sProblems(manifests: Manifest[], image: ImageFacts, fill?: Record<string, string>): { problems: string[]; configProblems: string[] } {
  const problems: string[] = [];
  const configProblems: string[] = [];
  const of = (kind: string) => manifests.filter((m) => m.doc.kind === kind);
  const byName = (kind: string, name: string) => of(kind).find((m) => m.doc.metadata?.name === name);
  const workloads = [...of('StatefulSet'), ...of('Deployment')];
  if (workloads.length === 0) problems.push('no Deployment or StatefulSet');
  const labelsMatch = (selector: Obj | undefined, labels: Obj) => selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  /** The labels of each pod a workload makes (StatefulSet pods get statefulset.kubernetes.io/pod-name from the controller). */
  const podLabels = (w: Manifest): Obj[] => {
    const base = w.doc.spec?.template?.metadata?.labels ?? {};
    if (w.doc.kind !== 'StatefulSet') return [base];
    return Array.from({ length: w.doc.spec.replicas ?? 1 }, (_, i) => ({ ...base, 'statefulset.kubernetes.io/pod-name': `${w.doc.metadata.name}-${i}` }));
  };
  const secretValue = (name: string, key: string): string | undefined => {
    const s = byName('Secret', name);
    if (!s) return undefined;
    if (s.doc.stringData?.[key] !== undefined) return String(s.doc.stringData[key]);
    if (s.doc.data?.[key] !== undefined) return Buffer.from(String(s.doc.data[key]), 'base64').toString('utf8');
    return undefined;
  };
  const configMapData = (name: string): Obj | undefined => { const c = byName('ConfigMap', name); return c ? { ...c.doc.data } : undefined; };
  /** The names of a workload's pods (a StatefulSet's are <name>-<ordinal>); one, whatever replicas says. */
  const podNames = (w: Manifest): string[] => {
    const names = podLabels(w).map((l) => String(l['statefulset.kubernetes.io/pod-name'] ?? `${w.doc.metadata?.name}-0`));
    return names.length > 0 ? names : [`${w.doc.metadata?.name}-0`];
  };
  /**
   * A container's env in one pod, as the kubelet makes it: Secret and ConfigMap keys (which must
   * exist), downward-API fields, literal values with $(VAR) expanded from the entries above.
   */
  const containerEnv = (C: string, c: Obj, pod: string): { env: Record<string, string>; problems: string[] } => {
    const env: Record<string, string> = {};
    const problems: string[] = [];
    for (const e of c.env ?? []) {
      const sk = e.valueFrom?.secretKeyRef, ck = e.valueFrom?.configMapKeyRef, fr = e.valueFrom?.fieldRef;
      if (sk) {
        const v = secretValue(sk.name, sk.key);
        if (v === undefined) { problems.push(`${C}: env ${e.name} refers to Secret ${sk.name} key ${sk.key}, which is not in the files`); continue; }
        env[e.name] = fill?.[e.name] ?? v;
      } else if (ck) {
        const v = configMapData(ck.name)?.[ck.key];
        if (v === undefined) { problems.push(`${C}: env ${e.name} refers to ConfigMap ${ck.name} key ${ck.key}, which is not in the files`); continue; }
        env[e.name] = String(v);
      } else if (fr) {
        env[e.name] = fr.fieldPath === 'metadata.name' ? pod : 'field';
      } else {
        env[e.name] = expandKubeVars(String(e.value ?? ''), env);
        const left = /\$\([A-Za-z_]\w*\)/.exec(env[e.name]);
        if (left) problems.push(`${C}: env ${e.name} refers to ${left[0]}, which no entry above it defines (Kubernetes leaves the text as it is)`);
      }
    }
    return { env, problems };
  };

  for (const w of workloads) {
    const W = where(w);
    const spec = w.doc.spec ?? {}, pod = spec.template?.spec ?? {};
    const labels = spec.template?.metadata?.labels ?? {};
    if (!labelsMatch(spec.selector?.matchLabels, labels)) problems.push(`${W}: selector ${JSON.stringify(spec.selector?.matchLabels)} does not match the pod labels`);
    if (w.doc.kind === 'StatefulSet') {
      const svc = byName('Service', spec.serviceName);
      if (!svc) problems.push(`${W}: serviceName ${spec.serviceName} is no Service in the files`);
      else if (svc.doc.spec?.clusterIP !== 'None') problems.push(`${W}: serviceName ${spec.serviceName} is not headless (clusterIP: None)`);
    }
    // Security.
    const psc = pod.securityContext ?? {};
    if (psc.runAsNonRoot !== true) problems.push(`${W}: pod securityContext.runAsNonRoot is not true`);
    if (psc.runAsUser !== undefined && psc.runAsUser !== image.uid) problems.push(`${W}: runAsUser ${psc.runAsUser} is not the image's user ${image.uid}`);
    const volumes = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
    for (const t of spec.volumeClaimTemplates ?? []) volumes.set(t.metadata?.name, { name: t.metadata?.name, persistentVolumeClaim: {} });
    for (const v of volumes.values()) {
      if (v.configMap && !byName('ConfigMap', v.configMap.name)) problems.push(`${W}: volume ${v.name} uses ConfigMap ${v.configMap.name}, which is not in the files`);
      if (v.secret && !byName('Secret', v.secret.secretName)) problems.push(`${W}: volume ${v.name} uses Secret ${v.secret.secretName}, which is not in the files`);
    }
    const grace = pod.terminationGracePeriodSeconds ?? 30;

    for (const c of pod.containers ?? []) {
      const C = `${W} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${C}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${C}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${C}: capabilities are not dropped (drop: [ALL])`);
      for (const r of ['cpu', 'memory']) {
        if (!c.resources?.requests?.[r]) problems.push(`${C}: no ${r} request`);
        if (!c.resources?.limits?.[r]) problems.push(`${C}: no ${r} limit`);
      }
      const ports = new Map<string, number>((c.ports ?? []).map((p: Obj) => [p.name, p.containerPort]));
      const portOk = (p: unknown) => typeof p === 'number' ? [...ports.values()].includes(p) : ports.has(String(p));
      const probePort = (p: unknown) => typeof p === 'number' ? p : ports.get(String(p));
      // Mounts: every one a volume; the data dir on a volume; the config file's folder.
      const files: Record<string, string> = {};
      for (const vm of c.volumeMounts ?? []) {
        const v = volumes.get(vm.name);
        if (!v) { problems.push(`${C}: volumeMount ${vm.name} names no volume`); continue; }
        if (v.configMap) for (const [k, val] of Object.entries(configMapData(v.configMap.name) ?? {})) files[`${vm.mountPath}/${k}`] = String(val);
      }
      const dataMount = (c.volumeMounts ?? []).find((vm: Obj) => vm.mountPath === image.dataDir);
      if (!dataMount) problems.push(`${C}: no volume at the data dir ${image.dataDir} (the root filesystem is read-only)`);
      // Environment, in each pod (the pod name differs); the image's ENV under it.
      const pods = podNames(w);
      const podEnvs = pods.map((pod) => containerEnv(C, c, pod));
      problems.push(...podEnvs[0].problems);
      const env: Record<string, string> = { ...image.env, ...podEnvs[0].env };
      for (const ef of c.envFrom ?? []) {
        if (ef.secretRef && !byName('Secret', ef.secretRef.name)) problems.push(`${C}: envFrom Secret ${ef.secretRef.name} is not in the files`);
        if (ef.configMapRef && !byName('ConfigMap', ef.configMapRef.name)) problems.push(`${C}: envFrom ConfigMap ${ef.configMapRef.name} is not in the files`);
      }
      if (env.SIGMA_CONFIG && files[env.SIGMA_CONFIG] === undefined) problems.push(`${C}: SIGMA_CONFIG ${env.SIGMA_CONFIG} is no file a ConfigMap mounts`);
      const cfg = configOf(env, files);
      configProblems.push(...cfg.problems.map((p) => `${C}: ${p}`));
      const config = cfg.config;
      // Ports and probes against the config the origin would run with.
      if (config) {
        for (const [name, port] of Object.entries(configPorts(config))) {
          if (ports.get(name) !== port) problems.push(`${C}: container port ${name} is ${ports.get(name)}, the origin listens on ${port}`);
        }
        if (grace <= config.shutdown.drainSec + 10) problems.push(`${W}: terminationGracePeriodSeconds ${grace} is not above shutdown.drainSec (${config.shutdown.drainSec}) + 10`);
        problems.push(...podObjectStoreProblems(C, c, config, (name, key) => secretValue(name, key) !== undefined));
      }
      if (w.doc.kind === 'StatefulSet') {
        const configs = pods.map((pod, i) => ({ pod, config: i === 0 ? config : configOf({ ...image.env, ...podEnvs[i].env }, files).config }));
        problems.push(...podOriginUrlProblems(C, spec.serviceName, configs));
      }
      const probes: [string, string][] = [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']];
      for (const [probe, path] of probes) {
        const p = c[probe]?.httpGet;
        if (!p) { problems.push(`${C}: no ${probe} with httpGet`); continue; }
        if (p.path !== path) problems.push(`${C}: ${probe} polls ${p.path}, not ${path}`);
      }
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const p = c[probe]?.httpGet ?? c[probe]?.tcpSocket;
        if (!p) continue;
        if (!portOk(p.port)) { problems.push(`${C}: ${probe} port ${p.port} is no container port`); continue; }
        if (config && ![config.http.enabled && config.http.port, config.api.enabled && config.api.port].includes(probePort(p.port)!)) {
          problems.push(`${C}: ${probe} port ${p.port} serves no /healthz or /readyz (those are on http.port and api.port)`);
        }
      }
      // Services and the PDB must reach these pods and ports.
      for (const s of of('Service')) {
        const sel = s.doc.spec?.selector;
        if (!podLabels(w).some((l) => labelsMatch(sel, l))) continue;
        for (const sp of s.doc.spec?.ports ?? []) {
          const target = sp.targetPort ?? sp.port;
          if (!portOk(target)) problems.push(`${where(s)}: Service ${s.doc.metadata.name} port ${sp.name ?? sp.port} targets ${target}, no container port of ${W}`);
        }
      }
    }
  }
  for (const s of of('Service')) {
    if (!workloads.some((w) => podLabels(w).some((l) => labelsMatch(s.doc.spec?.selector, l)))) problems.push(`${where(s)}: Service ${s.doc.metadata?.name} selects no pod of the workloads (${JSON.stringify(s.doc.spec?.selector)})`);
  }
  for (const p of of('PodDisruptionBudget')) {
    const w = workloads.find((x) => podLabels(x).some((l) => labelsMatch(p.doc.spec?.selector?.matchLabels, l)));
    if (!w) { problems.push(`${where(p)}: PodDisruptionBudget selects no pod of the workloads`); continue; }
    const replicas = w.doc.spec?.replicas ?? 1;
    if (typeof p.doc.spec?.minAvailable === 'number' && p.doc.spec.minAvailable >= replicas) problems.push(`${where(p)}: minAvailable ${p.doc.spec.minAvailable} of ${replicas} replicas blocks every drain`);
  }
  if (of('PodDisruptionBudget').length === 0) problems.push('no PodDisruptionBudget');
  if (of('ConfigMap').length === 0) problems.push('no ConfigMap');
  if (of('Secret').length === 0) problems.push('no Secret');
  return { problems, configProblems };
}

/** Kubernetes' expansion of $(VAR) in an env value: from the variables defined above it; $$ is a literal $; an unknown reference stays as it is. */
function expandKubeVars(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_]\w*)\)/g, (whole: string, name: string | undefined) => whole === '$$' ? '$' : defined[name!] ?? whole);
}

/**
 * objectStore in a pod: a bucket (from the ConfigMap), no credentials in the config (the schema
 * has no key for them, but an endpoint URL could carry some), and AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY for the AWS SDK from a Secret, not written in the manifest.
 */
function podObjectStoreProblems(C: string, c: Obj, config: Config, secretHas: (name: string, key: string) => boolean): string[] {
  const problems: string[] = [];
  if (!config.objectStore.bucket) problems.push(`${C}: objectStore.bucket is not set: the archive and recordings stay on the pod's volume only`);
  const endpoint = urlOf(config.objectStore.endpoint);
  if (endpoint && (endpoint.username || endpoint.password)) problems.push(`${C}: objectStore.endpoint carries credentials: they reach the origin as AWS_* variables from the Secret only`);
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    const e = ((c.env ?? []) as Obj[]).find((x) => x.name === key);
    if (e?.valueFrom?.secretKeyRef) continue;
    if (e) problems.push(`${C}: env ${key} is ${e.value !== undefined ? 'written in the manifest' : 'not from a Secret'}: credentials belong in the Secret (secretKeyRef)`);
    else if (!((c.envFrom ?? []) as Obj[]).some((ef) => ef.secretRef && secretHas(ef.secretRef.name, key))) problems.push(`${C}: no env ${key} from the Secret: the origin's AWS SDK has no credentials for objectStore`);
  }
  return problems;
}

/**
 * cluster.originUrl in each pod of a StatefulSet: the other origins relay this pod's live
 * channels from it, so it is the pod's own DNS name, <pod>.<serviceName> (a name the headless
 * governing Service gives each pod), in plain http on the HTTP port, one per pod.
 */
function podOriginUrlProblems(C: string, serviceName: string, pods: { pod: string; config?: Config }[]): string[] {
  const problems: string[] = [];
  const urls: string[] = [];
  for (const { pod, config } of pods.filter((p) => p.config)) {
    const url = config!.cluster.originUrl, u = urlOf(url);
    if (!url || !u) { problems.push(`${C} in pod ${pod}: cluster.originUrl is not set: no placement, so a request reaching the origin without a channel's publisher is not relayed`); continue; }
    urls.push(url);
    const [host, subdomain] = u.hostname.split('.');
    if (host !== pod || subdomain !== serviceName) problems.push(`${C} in pod ${pod}: cluster.originUrl ${url} is not the pod's own DNS name ${pod}.${serviceName} (pod.serviceName)`);
    if (u.protocol !== 'http:' || Number(u.port || 80) !== config!.http.port) problems.push(`${C} in pod ${pod}: cluster.originUrl ${url} is not plain http on its HTTP port ${config!.http.port}`);
  }
  if (new Set(urls).size !== urls.length) problems.push(`${C}: the pods need distinct cluster.originUrl values: ${urls.join(', ')}`);
  return problems;
}

/** Valid values for the Secret's placeholders, as an operator would fill them in. */
const SECRET_FILL = {
  SIGMA__SECRET: 's'.repeat(64),
  SIGMA__DATABASE__URL: 'postgres://sigma:pw@postgres.example:5432/sigma?sslmode=require',
  SIGMA__CHANNELS: '[{"id":"main","streamKey":"main-stream-key-0123"}]',
  AWS_ACCESS_KEY_ID: 'sigma-access-key',
  AWS_SECRET_ACCESS_KEY: 'sigma-secret-key-0123456789',
};

// ---------------------------------------------------------------- systemd unit

/** systemd unit file: [Section] Key=Value lines; a key may repeat (Environment=). */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { section = s[1]; out[section] ??= {}; continue; }
    const i = line.indexOf('=');
    if (i < 0) continue;
    ((out[section] ??= {})[line.slice(0, i).trim()] ??= []).push(line.slice(i + 1).trim());
  }
  return out;
}

/** Seconds of a systemd time span (30s, 1min 30s, 2m, plain seconds). */
function unitSec(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)\s*(ms|min|m|s|h)/g)) total += Number(m[1]) * { ms: 0.001, min: 60, m: 60, s: 1, h: 3600 }[m[2] as 's']!;
  return total;
}

export function unitProblems(text: string): string[] {
  const problems: string[] = [];
  const svc = parseUnit(text).Service ?? {};
  const one = (k: string) => svc[k]?.at(-1);
  const env: Record<string, string> = {};
  for (const e of svc.Environment ?? []) for (const m of e.matchAll(/"?(\w+)=([^"\s]*)"?/g)) env[m[1]] = m[2];
  const user = one('User');
  if (!user || user === 'root' || user === '0') problems.push(`User= is ${user ?? 'not set'} (runs as root)`);
  const want: Record<string, string> = { NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', Restart: 'on-failure' };
  for (const [k, v] of Object.entries(want)) if (one(k) !== v) problems.push(`${k}= is ${one(k) ?? 'not set'}, not ${v}`);
  if (one('MemoryDenyWriteExecute') === 'yes') problems.push('MemoryDenyWriteExecute=yes stops Node\'s JIT');
  const cfg = configOf({ ...env, SIGMA_CONFIG: '' });
  const config = cfg.config;
  if (!config) problems.push(`the unit's Environment= is not a valid origin config: ${cfg.problems.join('; ')}`);
  else {
    const rw = (svc.ReadWritePaths ?? []).flatMap((v) => v.split(/\s+/));
    const state = (svc.StateDirectory ?? []).flatMap((v) => v.split(/\s+/)).map((d) => `/var/lib/${d}`);
    if (!config.dataDir.startsWith('/')) problems.push(`dataDir ${config.dataDir} is relative (SIGMA__DATA_DIR in Environment=)`);
    else if (![...rw, ...state].some((p) => config.dataDir === p || config.dataDir.startsWith(`${p}/`))) problems.push(`the data dir ${config.dataDir} is not writable under ProtectSystem=strict (ReadWritePaths=${rw.join(' ')})`);
    const low = Object.entries(configPorts(config)).filter(([, p]) => p > 0 && p < 1024);
    const caps = one('CapabilityBoundingSet');
    if (low.length === 0 && caps !== '') problems.push(`CapabilityBoundingSet= is ${caps === undefined ? 'not set' : `"${caps}"`}; no port is below 1024, so it should be empty`);
    if (low.length > 0 && !(caps ?? '').includes('CAP_NET_BIND_SERVICE')) problems.push(`ports ${low.map(([n, p]) => `${n} ${p}`).join(', ')} need CAP_NET_BIND_SERVICE`);
    const stop = unitSec(one('TimeoutStopSec'));
    if (stop === undefined || stop <= config.shutdown.drainSec + 10) problems.push(`TimeoutStopSec=${one('TimeoutStopSec') ?? '(default 90 s, unstated)'} must be above shutdown.drainSec + 10 s (${config.shutdown.drainSec + 10})`);
  }
  if (!one('RestartSec')) problems.push('RestartSec= is not set');
  if ((one('KillSignal') ?? 'SIGTERM') !== 'SIGTERM') problems.push(`KillSignal=${one('KillSignal')}: the origin drains on SIGTERM`);
  if (!(svc.EnvironmentFile ?? []).length) problems.push('no EnvironmentFile= for the secrets');
  const exec = one('ExecStart') ?? '';
  if (!/\bnode\s+\S*dist\/src\/main\.js\b/.test(exec)) problems.push(`ExecStart=${exec} does not run node dist/src/main.js (npm start would run scripts/bootstrap.sh)`);
  return problems;
}

// ================================================================ the tests

const defaultConfig = configOf({}).config!;
const exists = (rel: string) => existsSync(join(ROOT, rel));
/** Whether src/ starts ffmpeg: a file that imports child_process and names ffmpeg. */
const needsFfmpeg = (() => {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => { const p = join(dir, n); return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []; });
  return walk(join(ROOT, 'src')).some((f) => { const s = readFileSync(f, 'utf8'); return /child_process/.test(s) && /ffmpeg/.test(s); });
})();
const dockerfile = read('deploy/Dockerfile');
const edgeConf = read('deploy/nginx/edge.conf');
const compose = read('deploy/compose.yaml');
const unit = read('deploy/sigma-live.service');
const k8sFiles = Object.fromEntries(readdirSync(join(DEPLOY, 'k8s')).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => [`deploy/k8s/${f}`, read(`deploy/k8s/${f}`)]));
const finalStage = parseDockerfile(dockerfile).stages.at(-1)!;
const image: ImageFacts = {
  env: stageEnv(finalStage),
  uid: Number(finalStage.instructions.filter((i) => i.cmd === 'USER').at(-1)?.args.split(':')[0]),
  dataDir: stageEnv(finalStage).SIGMA__DATA_DIR,
};
const mutate = (text: string, from: string | RegExp, to: string) => {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`the mutation found no ${from}`);
  return out;
};

const missingAddonTools = missingCommand('readelf', ['--version'], 'binutils') ?? missingCommand('dpkg-query', ['--version'], 'dpkg')
  ?? (existsSync(ADDON) ? undefined : `the addon is not built at ${ADDON} (npx node-gyp rebuild)`);

testNeeding(t, 'Dockerfile: multi-stage, non-root, readiness HEALTHCHECK, data VOLUME, COPY sources, runtime libav packages = what ldd finds', missingAddonTools, async (t) => {
  const libav = addonLibav();
  t.ok(libav.direct.length > 0, `the addon links libav directly: ${libav.direct.join(', ')}`);
  t.comment(`linked libav (ldd): ${libav.linked.map((l) => `${l.soname} (${l.pkg})`).join(', ')}`);
  t.comment(`src/ spawns ffmpeg: ${needsFfmpeg}`);
  const ctx: DockerContext = { libav, defaultConfig, exists, ignore: read('deploy/Dockerfile.dockerignore'), needsFfmpeg };
  t.same(dockerfileProblems(dockerfile, ctx), [], 'deploy/Dockerfile');

  t.test('each check can fail', async (t) => {
    const cases: [string, string, RegExp][] = [
      ['one stage', dockerfile.replace(/FROM \$\{NODE_IMAGE\} AS runtime[\s\S]*$/, ''), /not multi-stage/],
      ['runs as root', mutate(dockerfile, /^USER .*$/m, 'USER root'), /runs as root/],
      ['no USER', mutate(dockerfile, /^USER .*$/m, ''), /no USER/],
      ['health check on /healthz', mutate(dockerfile, ':8080/readyz', ':8080/healthz'), /readiness URL/],
      ['no VOLUME', mutate(dockerfile, /^VOLUME .*$/m, ''), /no VOLUME for the data dir/],
      ['a port not exposed', mutate(dockerfile, 'EXPOSE 1935 8080', 'EXPOSE 8080'), /EXPOSE lacks 1935/],
      ['a COPY source missing', mutate(dockerfile, 'COPY native/ native/', 'COPY nativ/ native/'), /COPY source nativ\/ does not exist/],
      ['a COPY source ignored', mutate(dockerfile, 'COPY src/ src/', 'COPY src/ src/\nCOPY test/ test/'), /excluded by Dockerfile.dockerignore/],
      ['a linked library not installed', mutate(dockerfile, ' libswscale6', ''), /does not install libswscale6/],
      ['a -dev package at run time', mutate(dockerfile, 'libavformat59 ', 'libavformat59 libavformat-dev '), /installs libavformat-dev, a build tool/],
      ['ffmpeg not needed', mutate(dockerfile, 'libavformat59 ', 'libavformat59 ffmpeg '), /spawns no ffmpeg/],
      ['npm start', mutate(dockerfile, 'CMD ["node", "dist/src/main.js"]', 'CMD ["npm", "start"]'), /does not run node directly/],
      ['no header package', mutate(dockerfile, ' libswscale-dev', ''), /does not install libswscale-dev/],
    ];
    for (const [what, text, expected] of cases) {
      const problems = dockerfileProblems(text, ctx);
      t.ok(problems.some((p) => expected.test(p)), `${what}: ${problems.join(' | ') || 'no problem found'}`);
    }
  });
});

t.test('compose.yaml: two origins on one PostgreSQL with one secret, health-gated start, an edge naming both, one bucket on the object store (made first, credentials only as AWS_*), a cluster.originUrl each', async (t) => {
  const ctx: ComposeContext = { dockerfile, edgeConf, defaultConfig, exists };
  t.same(composeProblems(compose, ctx), [], 'deploy/compose.yaml with deploy/nginx/edge.conf');

  t.test('each check can fail', async (t) => {
    const cases: [string, string, string, RegExp][] = [
      ['one origin', mutate(compose, /\n  origin-b:[\s\S]*?(?=\n  # Players)/, ''), edgeConf, /expected two origins/],
      ['secrets differ', mutate(compose, 'SIGMA__ANALYTICS__ORIGIN_ID: origin-b', 'SIGMA__ANALYTICS__ORIGIN_ID: origin-b\n      SIGMA__SECRET: another-secret-of-more-than-32-characters'), edgeConf, /SIGMA__SECRET differs/],
      ['a key the origin does not have', mutate(compose, 'SIGMA__PUBLIC_URL:', 'SIGMA__S3__ENDPOINT: http://object-store:9000\n  SIGMA__PUBLIC_URL:'), edgeConf, /would not start: SIGMA__S3__ENDPOINT \(environment\): names no config key/],
      ['no health condition', mutate(compose, /origin-a:\n        condition: service_healthy/, 'origin-a:\n        condition: service_started'), edgeConf, /edge: depends_on origin-a without condition service_healthy/],
      ['same origin id', mutate(compose, 'SIGMA__ANALYTICS__ORIGIN_ID: origin-b', 'SIGMA__ANALYTICS__ORIGIN_ID: origin-a'), edgeConf, /distinct analytics.originId/],
      ['short grace', mutate(compose, 'stop_grace_period: 30s', 'stop_grace_period: 5s'), edgeConf, /stop_grace_period 5s/],
      ['a wrong database user', mutate(compose, 'POSTGRES_USER: sigma', 'POSTGRES_USER: postgres'), edgeConf, /POSTGRES_USER/],
      // The object store, its bucket and the credentials.
      ['bucket under a name the origin does not read', mutate(compose, 'SIGMA__OBJECT_STORE__BUCKET:', 'OBJECT_STORE_BUCKET:'), edgeConf, /origin-a: objectStore\.bucket is not set/],
      ['buckets differ', mutate(compose, 'SIGMA__ANALYTICS__ORIGIN_ID: origin-b', 'SIGMA__ANALYTICS__ORIGIN_ID: origin-b\n      SIGMA__OBJECT_STORE__BUCKET: other-bucket'), edgeConf, /objectStore\.bucket differs between the origins/],
      ['endpoint names no service', mutate(compose, '&object-store-url http://object-store:9000', '&object-store-url http://minio:9000'), edgeConf, /names host minio, which is no service/],
      ['endpoint on the console port', mutate(compose, '&object-store-url http://object-store:9000', '&object-store-url http://object-store:9001'), edgeConf, /is not object-store's S3 port 9000/],
      ['virtual-hosted URLs', mutate(compose, 'SIGMA__PUBLIC_URL: http://localhost:8080', 'SIGMA__PUBLIC_URL: http://localhost:8080\n  SIGMA__OBJECT_STORE__FORCE_PATH_STYLE: "false"'), edgeConf, /forcePathStyle is false/],
      ['S3 API on every interface', mutate(compose, '"127.0.0.1:9000:9000"', '"9000:9000"'), edgeConf, /object-store: publishes 9000:9000 on every interface/],
      ['a default store password', mutate(compose, /MINIO_ROOT_PASSWORD: \$\{OBJECT_STORE_PASSWORD:\?[^}]*\}/, 'MINIO_ROOT_PASSWORD: ${OBJECT_STORE_PASSWORD:-change-me-please}'), edgeConf, /MINIO_ROOT_PASSWORD is \$\{OBJECT_STORE_PASSWORD:-change-me-please\}, not a required variable/],
      ['no secret key for the SDK', mutate(compose, /\n  AWS_SECRET_ACCESS_KEY: [^\n]*/, ''), edgeConf, /origin-b: AWS_SECRET_ACCESS_KEY is not object-store's MINIO_ROOT_PASSWORD/],
      ['credentials in a config key', mutate(compose, '&object-store-url http://object-store:9000', '&object-store-url http://${OBJECT_STORE_USER}:${OBJECT_STORE_PASSWORD}@object-store:9000'), edgeConf, /origin-a: the object store's secret key is in config key\(s\) SIGMA__OBJECT_STORE__ENDPOINT/],
      ['no bucket job', mutate(compose, /\n  # One-shot:[\s\S]*?(?=\n  origin-a:)/, ''), edgeConf, /no service creates the bucket sigma-live/],
      ['bucket job fails on the next up', mutate(compose, 'mc mb --ignore-existing', 'mc mb'), edgeConf, /object-store-bucket: mc mb without --ignore-existing/],
      ['bucket made elsewhere', mutate(compose, 'STORE_URL: *object-store-url', 'STORE_URL: http://localhost:9000'), edgeConf, /creates the bucket at http:\/\/localhost:9000, not at the origins' objectStore\.endpoint/],
      ['bucket job restarted forever', mutate(compose, '    image: minio/mc\n', '    image: minio/mc\n    restart: unless-stopped\n'), edgeConf, /waits for object-store-bucket to complete, but object-store-bucket has restart: unless-stopped/],
      ['origins not waiting for the bucket', mutate(compose, /\n    # The bucket exists[^\n]*\n    object-store-bucket:\n      condition: service_completed_successfully/, ''), edgeConf, /origin-a: does not wait for object-store-bucket to have created the bucket/],
      // cluster.originUrl.
      ['no originUrl', mutate(compose, /\n      SIGMA__CLUSTER__ORIGIN_URL: http:\/\/origin-b:8080/, ''), edgeConf, /origin-b: cluster\.originUrl is not set/],
      ['originUrl on loopback', mutate(compose, 'SIGMA__CLUSTER__ORIGIN_URL: http://origin-a:8080', 'SIGMA__CLUSTER__ORIGIN_URL: http://localhost:8080'), edgeConf, /origin-a: cluster\.originUrl http:\/\/localhost:8080 names localhost, not the service origin-a/],
      ['originUrls the same', mutate(compose, 'SIGMA__CLUSTER__ORIGIN_URL: http://origin-b:8080', 'SIGMA__CLUSTER__ORIGIN_URL: http://origin-a:8080'), edgeConf, /distinct cluster\.originUrl values/],
      ['originUrl on the API port', mutate(compose, 'SIGMA__CLUSTER__ORIGIN_URL: http://origin-a:8080', 'SIGMA__CLUSTER__ORIGIN_URL: http://origin-a:8081'), edgeConf, /origin-a: cluster\.originUrl http:\/\/origin-a:8081 is not plain http on its HTTP port 8080/],
      ['edge without origin-b', compose, mutate(edgeConf, /\n\s*server origin-b:8080[^\n]*/, ''), /does not name origin origin-b/],
      ['edge with two primaries', compose, mutate(edgeConf, 'fail_timeout=5s backup;\n    keepalive 64', 'fail_timeout=5s;\n    keepalive 64'), /2 primary servers/],
      ['no failover on 503', compose, mutate(edgeConf, 'http_502 http_503', 'http_502'), /lacks http_503/],
      ['media not cached', compose, mutate(edgeConf, /(location \/live\/ \{\n\s*proxy_pass http:\/\/sigma_origins;\n)\s*proxy_cache sigma_live;/, '$1'), /parts and segments .* not cached/],
      ['playlists cached long', compose, mutate(edgeConf, 'proxy_cache_valid 200 1s', 'proxy_cache_valid 200 1m'), /not briefly/],
      ['multivariant cached', compose, mutate(edgeConf, /(location ~ \/index\\\.m3u8\$ \{\n\s*proxy_pass http:\/\/sigma_origins;)/, '$1\n      proxy_cache sigma_live;'), /multivariant playlist .* is cached/],
    ];
    for (const [what, c, e, expected] of cases) {
      const problems = composeProblems(c, { ...ctx, edgeConf: e });
      t.ok(problems.some((p) => expected.test(p)), `${what}: ${problems.join(' | ') || 'no problem found'}`);
    }
  });
});

/** nginx -t on a copy of edge.conf: compose's service names do not resolve here, so they become 127.0.0.1; cache and pid paths move to a temp dir. */
function nginxTest(conf: string, origins: string[]): { code: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-edge-'));
  try {
    let copy = conf.replace(/\/var\/cache\/nginx\/sigma/g, join(dir, 'cache')).replace(/^pid .*;$/m, `pid ${join(dir, 'nginx.pid')};`);
    for (const o of origins) copy = copy.replace(new RegExp(`\\b${o}:`, 'g'), '127.0.0.1:');
    writeFileSync(join(dir, 'nginx.conf'), copy);
    // Output to a file: the config logs to /dev/stdout, which nginx cannot open on the socket
    // pair Node gives a child for a pipe (ENXIO); a container's stdout is a pipe or a terminal.
    const out = openSync(join(dir, 'output'), 'w');
    try {
      const r = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', out, out], timeout: 20_000 });
      return { code: r.status, output: readFileSync(join(dir, 'output'), 'utf8') };
    } finally {
      closeSync(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

testNeeding(t, 'nginx -t accepts deploy/nginx/edge.conf (upstream host names replaced by 127.0.0.1)', missingCommand('nginx', ['-v'], 'nginx-light'), async (t) => {
  const origins = ['origin-a', 'origin-b'];
  const r = nginxTest(edgeConf, origins);
  t.equal(r.code, 0, r.output);
  t.match(r.output, /test is successful/);
  const broken = nginxTest(mutate(edgeConf, 'proxy_cache_lock on;', 'proxy_cache_lock sometimes;'), origins);
  t.not(broken.code, 0, `a broken copy fails: ${broken.output.trim().split('\n')[0]}`);
});

t.test('Kubernetes manifests: API schemas, no unknown fields, references, probes, security, the origin accepts its config, objectStore with credentials from the Secret, a cluster.originUrl per pod', async (t) => {
  const { manifests, problems: yamlProblems } = loadManifests(k8sFiles);
  t.same(yamlProblems, [], 'YAML parses');
  t.same(manifests.map((m) => `${m.doc.kind}/${m.doc.metadata?.name}`).sort(), [
    'ConfigMap/sigma-live-config', 'PodDisruptionBudget/sigma-live', 'Secret/sigma-live-secrets', 'Service/sigma-live', 'Service/sigma-live-0-rtmp',
    'Service/sigma-live-1-rtmp', 'Service/sigma-live-api', 'Service/sigma-live-http', 'StatefulSet/sigma-live',
  ], 'the objects in deploy/k8s');
  t.same(schemaProblems(manifests), [], 'every object validates against its Kubernetes API schema');
  t.same(unknownFieldProblems(manifests), [], 'no field the API does not know');
  const filled = k8sProblems(manifests, image, SECRET_FILL);
  t.same(filled.problems, [], 'references, probes, ports, security, objectStore and its credentials, cluster.originUrl of each pod');
  t.same(filled.configProblems, [], 'with the Secret filled in, the origin accepts the ConfigMap and the environment');
  const asShipped = k8sProblems(manifests, image).configProblems.join('\n');
  for (const key of ['secret', 'database.url', 'channels']) {
    t.match(asShipped, new RegExp(`: ${key.replace('.', '\\.')}: `), `with the Secret as shipped (empty), the origin refuses to start, naming ${key}`);
  }

  t.test('each check can fail', async (t) => {
    const sts = k8sFiles['deploy/k8s/statefulset.yaml'], svc = k8sFiles['deploy/k8s/services.yaml'], cm = k8sFiles['deploy/k8s/configmap.yaml'];
    const originUrl = (value: string) => mutate(sts, 'value: http://$(POD_NAME).sigma-live:8080', `value: ${value}`);
    const cases: [string, string, string, RegExp][] = [
      ['a wrong type', 'deploy/k8s/statefulset.yaml', mutate(sts, 'replicas: 2', 'replicas: two'), /replicas must be integer/],
      ['a required field missing', 'deploy/k8s/statefulset.yaml', mutate(sts, '        - name: origin\n', '        - \n'), /must have required property '?name'?/],
      ['an unknown field', 'deploy/k8s/statefulset.yaml', mutate(sts, 'readinessProbe:', 'readinessprobe:'), /'"?readinessprobe"?' does not exist in type 'IContainer'/],
      ['a Secret not in the files', 'deploy/k8s/statefulset.yaml', mutate(sts, 'secretKeyRef: { name: sigma-live-secrets, key: SIGMA__DATABASE__URL }', 'secretKeyRef: { name: sigma-db, key: SIGMA__DATABASE__URL }'), /Secret sigma-db key SIGMA__DATABASE__URL, which is not in the files/],
      ['a ConfigMap not in the files', 'deploy/k8s/statefulset.yaml', mutate(sts, 'name: sigma-live-config', 'name: sigma-config'), /ConfigMap sigma-config, which is not in the files/],
      ['a probe on no container port', 'deploy/k8s/statefulset.yaml', mutate(sts, 'httpGet: { path: /readyz, port: http }', 'httpGet: { path: /readyz, port: 9090 }'), /readinessProbe port 9090 is no container port/],
      ['readiness on /healthz', 'deploy/k8s/statefulset.yaml', mutate(sts, 'path: /readyz', 'path: /healthz'), /readinessProbe polls \/healthz/],
      ['a container port the origin does not use', 'deploy/k8s/statefulset.yaml', mutate(sts, 'containerPort: 8081', 'containerPort: 9081'), /container port api is 9081/],
      ['writable root', 'deploy/k8s/statefulset.yaml', mutate(sts, 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false'), /readOnlyRootFilesystem is not true/],
      ['root allowed', 'deploy/k8s/statefulset.yaml', mutate(sts, 'runAsNonRoot: true', 'runAsNonRoot: false'), /runAsNonRoot is not true/],
      ['no data volume', 'deploy/k8s/statefulset.yaml', mutate(sts, /\s*- \{ name: data, mountPath: \/var\/lib\/sigma-live \}/, ''), /no volume at the data dir/],
      ['short grace', 'deploy/k8s/statefulset.yaml', mutate(sts, 'terminationGracePeriodSeconds: 30', 'terminationGracePeriodSeconds: 10'), /terminationGracePeriodSeconds 10/],
      ['no limits', 'deploy/k8s/statefulset.yaml', mutate(sts, /\n\s*limits: \{[^}]*\}/, ''), /no cpu limit/],
      ['a selector matching no pod', 'deploy/k8s/services.yaml', mutate(svc, 'statefulset.kubernetes.io/pod-name: sigma-live-1', 'statefulset.kubernetes.io/pod-name: sigma-live-2'), /selects no pod/],
      ['a target port not in the pod', 'deploy/k8s/services.yaml', mutate(svc, '{ name: api, port: 8081, targetPort: api }\n---', '{ name: api, port: 8081, targetPort: admin }\n---'), /targets admin/],
      ['a config key the origin does not have', 'deploy/k8s/configmap.yaml', mutate(cm, '"log":', '"s3": { "bucket": "x" },\n      "log":'), /unknown key\(s\) "s3"/],
      // objectStore and its credentials.
      ['no bucket', 'deploy/k8s/configmap.yaml', mutate(cm, '"bucket": "sigma-live", ', ''), /objectStore\.bucket is not set/],
      ['a bucket name S3 refuses', 'deploy/k8s/configmap.yaml', mutate(cm, '"bucket": "sigma-live"', '"bucket": "Sigma_Live"'), /objectStore\.bucket: objectStore\.bucket: an S3 bucket name/],
      ['a credential as a config key', 'deploy/k8s/configmap.yaml', mutate(cm, '"objectStore": { ', '"objectStore": { "secretAccessKey": "x", '), /objectStore: unknown key\(s\) "secretAccessKey"/],
      ['credentials in the endpoint', 'deploy/k8s/configmap.yaml', mutate(cm, '"endpoint": "https://s3.edit-me.example"', '"endpoint": "https://AKIAEXAMPLE:secret@s3.edit-me.example"'), /objectStore\.endpoint carries credentials/],
      ['a secret key written in the manifest', 'deploy/k8s/statefulset.yaml', mutate(sts, /name: AWS_SECRET_ACCESS_KEY\n\s*valueFrom:\n\s*secretKeyRef: \{[^}]*\}/, 'name: AWS_SECRET_ACCESS_KEY\n              value: "wJalrXUtnFEMI"'), /env AWS_SECRET_ACCESS_KEY is written in the manifest/],
      ['no access key', 'deploy/k8s/statefulset.yaml', mutate(sts, /\n\s*- name: AWS_ACCESS_KEY_ID\n\s*valueFrom:\n\s*secretKeyRef: \{[^}]*\}/, ''), /no env AWS_ACCESS_KEY_ID from the Secret/],
      // cluster.originUrl of each pod.
      ['POD_NAME defined after its use', 'deploy/k8s/statefulset.yaml', mutate(sts, /(\n\s*- name: POD_NAME\n\s*valueFrom:\n\s*fieldRef:\n\s*fieldPath: metadata\.name)([\s\S]*?value: http:\/\/\$\(POD_NAME\)[^\n]*)/, '$2$1'), /env SIGMA__CLUSTER__ORIGIN_URL refers to \$\(POD_NAME\), which no entry above it defines/],
      ['no originUrl', 'deploy/k8s/statefulset.yaml', mutate(sts, /\n\s*- name: SIGMA__CLUSTER__ORIGIN_URL\n\s*value: [^\n]*/, ''), /in pod sigma-live-0: cluster\.originUrl is not set/],
      ['one originUrl for every pod', 'deploy/k8s/statefulset.yaml', originUrl('http://sigma-live-0.sigma-live:8080'), /the pods need distinct cluster\.originUrl values/],
      ['originUrl through the load-balanced Service', 'deploy/k8s/statefulset.yaml', originUrl('http://sigma-live-http:8080'), /in pod sigma-live-1: cluster\.originUrl http:\/\/sigma-live-http:8080 is not the pod's own DNS name sigma-live-1\.sigma-live/],
      ['originUrl under a Service that gives pods no names', 'deploy/k8s/statefulset.yaml', originUrl('http://$(POD_NAME).sigma-live-http:8080'), /is not the pod's own DNS name sigma-live-0\.sigma-live/],
      ['originUrl on the API port', 'deploy/k8s/statefulset.yaml', originUrl('http://$(POD_NAME).sigma-live:8081'), /cluster\.originUrl http:\/\/sigma-live-0\.sigma-live:8081 is not plain http on its HTTP port 8080/],
      ['PDB blocking drains', 'deploy/k8s/pdb.yaml', mutate(k8sFiles['deploy/k8s/pdb.yaml'], 'minAvailable: 1', 'minAvailable: 2'), /blocks every drain/],
    ];
    for (const [what, file, text, expected] of cases) {
      const { manifests: ms } = loadManifests({ ...k8sFiles, [file]: text });
      const r = k8sProblems(ms, image, SECRET_FILL);
      const problems = [...schemaProblems(ms), ...r.problems, ...r.configProblems];
      // The type checker is the slow one: only for the case it is there to catch.
      if (what === 'an unknown field') problems.push(...unknownFieldProblems(ms));
      t.ok(problems.some((p) => expected.test(p)), `${what}: ${problems.join(' | ') || 'no problem found'}`);
    }
  });
});

const missingSystemd = missingCommand('systemd-analyze', ['--version'], 'systemd');

/** systemd-analyze on a temp copy of the unit; ExecStart's binary must exist, so /usr/bin/node becomes this Node when that path is absent. */
function systemdAnalyze(args: string[], text: string): { code: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-unit-'));
  try {
    const file = join(dir, 'sigma-live.service');
    writeFileSync(file, existsSync('/usr/bin/node') ? text : text.replaceAll('/usr/bin/node', process.execPath));
    const r = spawnSync('systemd-analyze', [...args, file], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

testNeeding(t, 'sigma-live.service: systemd-analyze verify and security, hardening, graceful stop', missingSystemd, async (t) => {
  const verify = systemdAnalyze(['verify'], unit);
  t.equal(verify.code, 0, 'systemd-analyze verify exits 0');
  t.equal(verify.output, '', 'and prints nothing (no unknown key, no unparsable value)');
  const security = systemdAnalyze(['security', '--offline=true', '--threshold=20'], unit);
  const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.output)?.[1]);
  t.equal(security.code, 0, `systemd-analyze security: exposure ${exposure} within 2.0`);
  t.ok(exposure <= 2.0, `exposure ${exposure}`);
  t.same(unitProblems(unit), [], 'User, hardening, data dir writable, no capabilities, restart, stop timeout, EnvironmentFile, ExecStart');

  t.test('each check can fail', async (t) => {
    const typo = systemdAnalyze(['verify'], mutate(unit, 'NoNewPrivileges=yes', 'NoNewPriviliges=yes'));
    t.match(typo.output, /Unknown key 'NoNewPriviliges'/, 'verify reports an unknown key');
    const badExec = systemdAnalyze(['verify'], mutate(unit, 'ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/no-such-node'));
    t.not(badExec.code, 0, `verify fails on a missing ExecStart binary: ${badExec.output.split('\n')[0]}`);
    const loose = systemdAnalyze(['security', '--offline=true', '--threshold=20'], unit.replace(/^(ProtectSystem|PrivateDevices|SystemCallFilter|ProtectKernelTunables)=.*$/gm, ''));
    t.not(loose.code, 0, `security fails above 2.0 without four settings: ${/Overall exposure level[^\n]*/.exec(loose.output)?.[0]}`);
    const cases: [string, string, RegExp][] = [
      ['root', mutate(unit, 'User=sigma', 'User=root'), /runs as root/],
      ['no ProtectSystem', mutate(unit, 'ProtectSystem=strict', 'ProtectSystem=full'), /ProtectSystem= is full/],
      ['data dir read-only', mutate(unit, /^StateDirectory=.*\n/m, '').replace(/^ReadWritePaths=.*\n/m, ''), /not writable under ProtectSystem=strict/],
      ['a capability', mutate(unit, /^CapabilityBoundingSet=$/m, 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE'), /should be empty/],
      ['a short stop timeout', mutate(unit, 'TimeoutStopSec=30s', 'TimeoutStopSec=10s'), /TimeoutStopSec=10s must be above/],
      ['npm start', mutate(unit, 'ExecStart=/usr/bin/node /opt/sigma-live/dist/src/main.js', 'ExecStart=/usr/bin/npm start'), /does not run node dist\/src\/main\.js/],
      ['JIT blocked', `${unit}\n[Service]\nMemoryDenyWriteExecute=yes\n`, /stops Node's JIT/],
      ['no EnvironmentFile', mutate(unit, /^EnvironmentFile=.*\n/m, ''), /no EnvironmentFile/],
    ];
    for (const [what, text, expected] of cases) {
      const problems = unitProblems(text);
      t.ok(problems.some((p) => expected.test(p)), `${what}: ${problems.join(' | ') || 'no problem found'}`);
    }
  });
});

t.test('README: the Deployment section names every file in deploy/', async (t) => {
  const readme = read('README.md');
  const section = /\n## Deployment\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  t.ok(section.length > 0, 'README.md has a "## Deployment" section');
  const walk = (dir: string): string[] => readdirSync(join(ROOT, dir)).flatMap((n) => statSync(join(ROOT, dir, n)).isDirectory() ? walk(`${dir}/${n}`) : [`${dir}/${n}`]);
  for (const f of walk('deploy')) t.ok(section.includes(f) || section.includes(f.replace(/^deploy\/k8s\/.*$/, 'deploy/k8s/')), `the section names ${f}`);
});
