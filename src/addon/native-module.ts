/**
 * Loads the native addon (build/Release/sigma_native.node) once, for every facade in
 * src/addon/. Nothing outside this folder touches it; callers see typed classes only.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An Error from the addon, with a stable code (ERR_NATIVE_CONFIG, ERR_THUMB_DECODE, …). */
export type NativeError = Error & { code: string };

/** Walks up from this file to the package root (the folder with package.json and binding.gyp). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('sigma-live package root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let nativeModule: unknown;

/** The addon's exports, typed by the caller; throws ERR_NATIVE_MISSING when it is not built. */
export function loadNative<T>(): T {
  if (!nativeModule) {
    const path = join(packageRoot(), 'build', 'Release', 'sigma_native.node');
    if (!existsSync(path)) {
      const e = new Error(`native addon missing at ${path}; run npx node-gyp rebuild`) as NativeError;
      e.code = 'ERR_NATIVE_MISSING';
      throw e;
    }
    nativeModule = createRequire(import.meta.url)(path);
  }
  return nativeModule as T;
}

/**
 * The close() of a native worker (pipeline, thumbnailer): asks it once to drain, and resolves
 * when its 'done' event has been delivered, i.e. after the last result callback.
 */
export class WorkerClose {
  #closed: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #done = false;

  /** The worker's 'done' event arrived. */
  done(): void {
    this.#done = true;
    this.#resolve?.();
  }

  /** Calls `ask` once (the native close()); every call returns the same promise. */
  close(ask: () => void): Promise<void> {
    if (!this.#closed) {
      this.#closed = new Promise<void>((resolve) => {
        if (this.#done) resolve();
        else this.#resolve = resolve;
      });
      ask();
    }
    return this.#closed;
  }
}

/**
 * Calls a result handler from a native event. A throw there would surface from the
 * thread-safe function as an uncaught exception and take the whole process (every channel)
 * down: it is passed to onError instead, with `code` unless it has one.
 */
export function callGuarded<T>(handler: (v: T) => void, value: T, onError: (e: NativeError) => void, code: string): void {
  try {
    handler(value);
  } catch (err) {
    const e = (err instanceof Error ? err : new Error(String(err))) as NativeError;
    e.code ??= code;
    onError(e);
  }
}
