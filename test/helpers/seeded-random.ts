import { randomInt } from 'node:crypto';
import type { Test } from 'tap';

/** The environment variable that replays a run's random choices: the seed its log printed. */
export const SEED_ENV = 'SIGMA_TEST_SEED';

/**
 * A reproducible source of randomness for tests (kill points, delays): mulberry32, a 32-bit
 * PRNG, seeded from SIGMA_TEST_SEED when set, else at random. The seed is printed as a TAP
 * comment of `t`, so the log of a failure says how to run the same choices again:
 * `SIGMA_TEST_SEED=<seed> npx tap <file>`. Returns numbers in [0, 1) like Math.random.
 */
export function seededRandom(t: Test, what: string): () => number {
  const given = process.env[SEED_ENV] || undefined;
  if (given !== undefined && !/^\d{1,10}$/.test(given)) throw new Error(`${SEED_ENV} must be an integer seed as a log printed it, not ${JSON.stringify(given)}`);
  const seed = given !== undefined ? Number(given) >>> 0 : randomInt(2 ** 32);
  t.comment(`${what}: seed ${seed} (replay with ${SEED_ENV}=${seed})`);
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
