/**
 * Hands the memory the C allocator holds free back to the OS, now and then.
 *
 * Why: media buffers are made on one thread and freed on another (native/memory_trim.cc says
 * how), and glibc keeps what such frees leave behind in per-thread arenas, so without a trim the
 * process's RSS stays at each arena's high-water mark. The trim runs on the libuv thread pool,
 * never on the event loop.
 */
import type { Logger } from 'pino';
import { loadNative } from './native-module.js';

interface NativeModule {
  trimMemory(): Promise<boolean>;
}

/** One malloc_trim(0) off the event loop; true when memory went back to the OS. */
export function trimMemory(): Promise<boolean> {
  return loadNative<NativeModule>().trimMemory();
}

/**
 * Trims every `intervalMs` until the returned stop() is called; 0 turns it off. The timer does
 * not keep the process alive, and a trim never overlaps the previous one.
 */
export function startMemoryTrim(intervalMs: number, log: Logger): () => void {
  if (intervalMs <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    // Through then(): a missing addon (a synchronous throw) is logged too, never thrown out of a timer.
    Promise.resolve().then(trimMemory)
      .catch((err: unknown) => log.warn({ err }, 'memory trim failed'))
      .finally(() => { running = false; });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
