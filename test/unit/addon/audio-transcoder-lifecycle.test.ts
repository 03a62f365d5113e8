/**
 * Worker threads and the event loop: every Opus→AAC transcoder's thread ends when it is closed
 * (or collected), and neither open nor closed transcoders keep the process from exiting, also
 * with packets still queued or being transcoded.
 */
import { lifecycleSuite } from './lifecycle-suite.js';

lifecycleSuite('audio', 'audio transcoder');
