import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/** The process entry point, as `npm start` runs it. */
export const MAIN = resolve('dist/src/main.js');

/**
 * Ports free right now on 127.0.0.1, all different (held open together while they are picked).
 * For a child process that must listen on the same ports across restarts, where port 0 won't do.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(servers.map(async (s) => {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      return (s.address() as AddressInfo).port;
    }));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export interface OriginProcess {
  proc: ChildProcess;
  /** Resolves with the printed playback origin (http://127.0.0.1:PORT) once the URLs are printed (after the channels' own). */
  ready: Promise<string>;
  /** Everything printed on stderr so far (URLs, fatal errors). */
  stderr(): string;
  /** The JSON log lines printed on stdout so far. */
  logs(): Record<string, unknown>[];
  /** Sends a signal and resolves when the process has exited (at once if it already has). */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Spawns `node dist/src/main.js --config FILE` (stdout: JSON logs, stderr: the printed URLs). */
export function spawnOrigin(configFile: string): OriginProcess {
  const proc = spawn(process.execPath, [MAIN, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => { out += d; });
  const ready = new Promise<string>((res, rej) => {
    proc.stderr!.on('data', (d: string) => {
      err += d;
      // Printed with or without channels in the config (channels made through the API).
      const m = /^HLS: +(\S+)\/live\/<channel>\/index\.m3u8/m.exec(err);
      if (m) res(new URL(m[1]).origin);
    });
    proc.on('exit', (code, signal) => rej(new Error(`origin exited (${code ?? signal}) before it printed its URLs: ${err}`)));
  });
  ready.catch(() => {}); // observed by whoever awaits it
  return {
    proc, ready,
    stderr: () => err,
    logs: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop(signal) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
    },
  };
}
