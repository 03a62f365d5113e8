/**
 * Every scenario with a real browser, in one test file so they run one after another: tap runs
 * files two at a time, and two Chromiums, two encoders and a transcode at once on a 2-core
 * machine measure the machine (latency and stalls), not the origin. Each module registers its
 * scenarios with tap when imported.
 */
import t from 'tap';
import './players.js';
import './abr.js';
import './thumbnails-shaka.js';
import './latency-modes.js';

// The scenarios in sequence take about 4.7 minutes here, close to tap's per-file timeout (300 s
// in package.json); this file alone may take 10 (tap's root setTimeout tells the runner).
t.setTimeout(600_000);
