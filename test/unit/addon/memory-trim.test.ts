/**
 * trimMemory(): memory freed inside the C allocator's heap goes back to the OS (RSS falls), off
 * the event loop; startMemoryTrim() trims on its interval and stops.
 */
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startMemoryTrim, trimMemory } from '../../../src/addon/memory-trim.js';
import { silentLogger } from '../../../src/log.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
// Under valgrind (scripts/valgrind-addon.sh) its own allocator replaces glibc's: nothing to trim,
// so only the native call's safety is checked there, not its effect.
const underValgrind = (process.env.LD_PRELOAD ?? '').includes('vgpreload');

/**
 * Leaves `count` × 64 KiB freed inside the C heap and returns the one buffer still in use.
 * 64 KiB is below glibc's mmap threshold, so the buffers live in the heap, not in mappings of
 * their own that free() would unmap anyway; they are written, so every page is resident. The
 * newest stays: it sits at the heap's top, so plain free() cannot shrink the heap.
 */
async function freedInsideHeap(count: number, fill: number): Promise<Buffer> {
  let buffers: Buffer[] | undefined = Array.from({ length: count }, () => Buffer.alloc(64 * 1024, fill));
  const pinned = buffers[buffers.length - 1];
  buffers = undefined;
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return pinned;
}

t.test('RSS falls by what was freed inside the heap', async (t) => {
  const pinned = await freedInsideHeap(2000, 1);
  const before = rssMiB();
  const released = await trimMemory();
  const after = rssMiB();
  if (underValgrind) {
    t.type(released, 'boolean');
    return;
  }
  t.equal(released, true, 'malloc_trim released memory');
  t.ok(before - after >= 64, `RSS fell by ${(before - after).toFixed(0)} MiB of the ~125 MiB freed (${before.toFixed(0)} → ${after.toFixed(0)} MiB)`);
  t.equal(pinned[0], 1, 'memory still in use is untouched');
});

t.test('startMemoryTrim trims on its interval, unasked', async (t) => {
  t.equal(typeof startMemoryTrim(0, silentLogger()), 'function', '0 turns it off');
  const pinned = await freedInsideHeap(1000, 2);
  const before = rssMiB();
  const stop = startMemoryTrim(20, silentLogger());
  await new Promise((r) => setTimeout(r, 300));
  const after = rssMiB();
  stop();
  if (underValgrind) return;
  t.ok(before - after >= 32, `RSS fell by ${(before - after).toFixed(0)} MiB without an explicit call`);
  t.equal(pinned[0], 2);
});
