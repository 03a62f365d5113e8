import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './origin-process.js';
import { missingCommand } from './ci.js';

/**
 * nginx as a CDN stand-in in front of the origin: a caching reverse proxy configured as a CDN
 * for LL-HLS would be (docs: README, Viewer analytics, Behind a CDN):
 * - the multivariant playlist is passed through uncached: it mints a session id per request;
 * - media playlists are cached 1 s under a key WITHOUT the `sid` argument, so every viewer of a
 *   rendition shares one cached (or one held blocking) response; the sid still reaches the
 *   origin on the request that fills the cache;
 * - parts, segments and init segments are cached as the origin's Cache-Control says;
 * - concurrent misses for one key wait for the first (proxy_cache_lock), as a CDN collapses
 *   requests: the origin answers each blocking playlist request once, not once per viewer;
 * - POST /v1/beacon is passed through to the origin's API port, uncached: one public host for
 *   players, as a CDN routes one path to another origin.
 * Its access log has the fields a CDN's log has (time, client, user agent, URL, status, bytes,
 * cache status), for the mapping the README describes.
 */

export interface CachingProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The access log so far, one line per request (tab-separated: msec, address, status, bytes, cache, request, user agent, upstream address(es)). */
  accessLog(): string[];
  stop(): Promise<void>;
}

export const missingNginx = (): string | undefined => missingCommand('nginx', ['-v'], 'nginx-light');

/** A free port for the proxy, known before the origin starts (its publicUrl names the proxy). */
export async function proxyPort(): Promise<number> {
  return (await freePorts(1))[0];
}

/**
 * Several delivery ports (origins): nginx balances over them and moves a request that fails to
 * connect, times out or gets a 502/503/504 on to the next, as a CDN with an origin group would.
 */
export async function startCachingProxy(o: { port: number; deliveryPort: number | number[]; apiPort: number }): Promise<CachingProxy> {
  const origins = (Array.isArray(o.deliveryPort) ? o.deliveryPort : [o.deliveryPort]).map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'sigma-nginx-'));
  const lock = 'proxy_cache_lock on; proxy_cache_lock_timeout 10s; proxy_cache_lock_age 10s;';
  // Started as root, nginx's workers would run as nobody, who may not write the cache in a 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const conf = `
${user}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  log_format cdn '$msec\\t$remote_addr\\t$status\\t$body_bytes_sent\\t$upstream_cache_status\\t$request\\t$http_user_agent\\t$upstream_addr';
  access_log ${dir}/access.log cdn;
  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/pt; fastcgi_temp_path ${dir}/ft; uwsgi_temp_path ${dir}/ut; scgi_temp_path ${dir}/st;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=live:16m max_size=512m inactive=60s use_temp_path=off;
  keepalive_requests 1000000;
  upstream origin { ${origins} keepalive 64; }
  upstream api { server 127.0.0.1:${o.apiPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${o.port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_next_upstream error timeout http_502 http_503 http_504;
    proxy_connect_timeout 1s;
    proxy_set_header X-Forwarded-For $remote_addr;
    add_header X-Cache $upstream_cache_status always;
    location = /v1/beacon { proxy_pass http://api; }
    location ~ /index\\.m3u8$ { proxy_pass http://origin; }
    location ~ \\.m3u8$ {
      proxy_pass http://origin;
      proxy_cache live;
      proxy_cache_key "$uri|$arg__HLS_msn|$arg__HLS_part|$arg__HLS_skip|$arg_token";
      proxy_ignore_headers Cache-Control Expires;
      proxy_cache_valid 200 1s;
      ${lock}
    }
    location /live/ {
      proxy_pass http://origin;
      proxy_cache live;
      proxy_cache_key "$uri|$arg_token";
      ${lock}
    }
    location / { proxy_pass http://origin; }
  }
}`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const proc = spawn('nginx', ['-p', dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${o.port}`;
  const errors = () => { try { return readFileSync(join(dir, 'error.log'), 'utf8'); } catch { return ''; } };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch { /* not listening yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr} ${errors()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, port: o.port,
    accessLog: () => { try { return readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l !== ''); } catch { return []; } },
    async stop() {
      if (proc.exitCode === null) {
        const exited = once(proc, 'exit');
        proc.kill('SIGQUIT');
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(kill);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
