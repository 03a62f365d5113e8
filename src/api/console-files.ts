import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiApp } from './context.js';
import { ApiError } from './errors.js';

/**
 * The operator console (README: Operator console) at /console/ on the API port: static files
 * only, compiled at build time from src/console (dist/console) plus the browser builds of the
 * three libraries it imports (Preact, uPlot, hls.js) straight from node_modules, named by the
 * page's import map. Everything it shows comes from the public REST API with the operator's
 * token, so the console has no privilege of its own and no route of its own besides these files.
 */

export const CONSOLE_PATH = '/console/';

/** The compiled console next to this module's dist/src/api: dist/console. */
export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** vendor/<name> → the file in node_modules (ES module builds; the import map in index.html names them). */
function vendorFiles(): Map<string, string> {
  const preact = packageDir('preact'), uplot = packageDir('uplot'), hls = packageDir('hls.js');
  return new Map([
    ['vendor/preact.mjs', join(preact, 'dist', 'preact.module.js')],
    ['vendor/preact-hooks.mjs', join(preact, 'hooks', 'dist', 'hooks.module.js')],
    ['vendor/preact-jsx-runtime.mjs', join(preact, 'jsx-runtime', 'dist', 'jsxRuntime.module.js')],
    ['vendor/uplot.mjs', join(uplot, 'dist', 'uPlot.esm.js')],
    ['vendor/uplot.css', join(uplot, 'dist', 'uPlot.min.css')],
    ['vendor/hls.mjs', join(hls, 'dist', 'hls.min.mjs')],
  ]);
}

const SERVED = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.png']);

/** Every file the console serves, by its path under /console/; read from disk when asked (send), listed once. */
export function consoleFiles(dir = CONSOLE_DIR): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (SERVED.has(extname(name))) files.set(relative(dir, path).split(sep).join('/'), path);
    }
  };
  if (existsSync(dir)) walk(dir);
  for (const [name, path] of vendorFiles()) files.set(name, path);
  return files;
}

/**
 * Scripts from this origin only, plus the page's inline import map by its hash; media, playlists
 * and thumbnails from the HTTP ports (another port is another origin); the API here.
 */
function contentSecurityPolicy(indexHtml: string | undefined): string {
  const map = indexHtml === undefined ? undefined : /<script type="importmap">([\s\S]*?)<\/script>/.exec(readFileSync(indexHtml, 'utf8'))?.[1];
  const mapHash = map === undefined ? '' : ` 'sha256-${createHash('sha256').update(map).digest('base64')}'`;
  return `default-src 'self'; script-src 'self'${mapHash}; img-src 'self' http: https: data: blob:; media-src 'self' http: https: blob:; `
    + "connect-src 'self' http: https:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'";
}

export function consoleRoutes(app: ApiApp, dir = CONSOLE_DIR): void {
  const files = consoleFiles(dir);
  const policy = contentSecurityPolicy(files.get('index.html'));
  const tags = ['console'];
  // Every page load fetches a dozen files: a log line each would drown the request log.
  const common = { config: { access: 'public' as const }, logLevel: 'warn' as const };

  app.get('/console', { ...common, schema: { tags, summary: 'Redirects to /console/', response: { 301: z.void().describe('To /console/') } } },
    async (_req, reply) => reply.redirect(CONSOLE_PATH, 301));

  const fileRoute = (summary: string, params: z.ZodRawShape) => ({
    ...common,
    schema: { tags, summary, params: z.object(params),
      response: { 200: z.any().describe('The file'), 206: z.any().describe('A byte range of it'), 304: z.any().describe('Not modified (If-None-Match)') } },
  });
  const fileName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/, 'a file name');
  app.get('/console/', fileRoute('The operator console (README: Operator console): it calls this API with the operator\'s token', {}),
    async (req, reply) => serve('index.html', req, reply));
  app.get('/console/:file', fileRoute('A script or style of the console', { file: fileName }),
    async (req, reply) => serve(req.params.file, req, reply));
  app.get('/console/:dir/:file', fileRoute('A script of the console, or a library it imports (vendor/)', { dir: fileName, file: fileName }),
    async (req, reply) => serve(`${req.params.dir}/${req.params.file}`, req, reply));

  async function serve(name: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = files.get(name);
    if (path === undefined) {
      throw new ApiError('ROUTE_NOT_FOUND', files.has('index.html') ? `no console file "${name.slice(0, 200)}"`
        : 'the console is not built: run the bootstrap (npm start does)');
    }
    // send: ETag and Last-Modified, so a reload revalidates (no-cache) rather than downloading again.
    const sent = await send(req.raw, `/${basename(path)}`, { root: dirname(path), index: false, cacheControl: false });
    const status = sent.statusCode;
    if (status !== 200 && status !== 206 && status !== 304) {
      sent.stream.destroy();
      throw new ApiError(status === 412 ? 'PRECONDITION_FAILED' : 'ROUTE_NOT_FOUND', `console file "${name}"`);
    }
    reply.code(status).headers(sent.headers).header('cache-control', 'no-cache');
    if (name === 'index.html') reply.header('content-security-policy', policy);
    return reply.send(sent.stream);
  }
}
