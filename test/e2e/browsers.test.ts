/**
 * Every scenario with a real browser, in one test file so they run one after another: two
 * Chromiums, two encoders and a transcode at once on a 2-core machine measure the machine
 * (latency and stalls), not the origin. For the same reason tap runs one file at a time
 * (package.json `jobs: 1`): with two, the conformance test's dozen publishers ran beside this
 * file and a ladder switch stalled 5 s in one CI run. Each module registers its scenarios with
 * tap when imported.
 */
import t from 'tap';
import './players.js';
import './abr.js';
import './thumbnails-shaka.js';
import './latency-modes.js';
import './failover.js';
import './srt-latency.js';
import './whip-latency.js';

// The scenarios in sequence took about 4.7 minutes here before failover.ts (backup inputs, four
// scenarios, about 2.2 minutes more): about 7 minutes in all, past tap's per-file timeout (300 s
// in package.json) and near the 10 this file had; it may take 15 on a loaded machine (tap's root
// setTimeout tells the runner).
t.setTimeout(900_000);
