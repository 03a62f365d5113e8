/**
 * Every scenario with a real browser, in one test file so they run one after another: tap runs
 * files two at a time, and two Chromiums, two encoders and a transcode at once on a 2-core
 * machine measure the machine (latency and stalls), not the origin. Each module registers its
 * scenarios with tap when imported.
 */
import './players.js';
import './abr.js';
import './thumbnails-shaka.js';
import './latency-modes.js';
