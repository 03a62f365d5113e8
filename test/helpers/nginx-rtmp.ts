import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** Undefined when nginx and Debian's RTMP module are installed, else what is missing. */
export const missingNginxRtmp = (): string | undefined => (existsSync(MODULE) && existsSync('/usr/sbin/nginx')
  ? undefined : 'nginx-rtmp is not installed (apt-get install nginx-light libnginx-mod-rtmp; scripts/bootstrap.sh installs them)');

export interface NginxRtmp {
  port: number;
  /** rtmp://127.0.0.1:port/live/<key> */
  url(key: string): string;
  /** SIGKILL, as a crashed service. */
  kill(): Promise<void>;
  /** Starts again on the same port (after kill). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a target that stops reading without closing. */
  pause(): void;
  resume(): void;
  errors(): string;
  stop(): Promise<void>;
}

/**
 * nginx with Debian's RTMP module as a restream target, as a user's own relay server would be:
 * one `live` application, its own temporary prefix and config, in the foreground.
 */
export async function startNginxRtmp(port: number): Promise<NginxRtmp> {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-nginx-rtmp-'));
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `
load_module ${MODULE};
${user}
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
    application live { live on; record off; }
  }
}
`);
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (up) return;
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`nginx-rtmp did not start: ${errors()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const errors = () => { try { return readFileSync(join(dir, 'error.log'), 'utf8'); } catch { return ''; } };
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: (key) => `rtmp://127.0.0.1:${port}/live/${key}`,
    kill,
    restart: launch,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    errors,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
