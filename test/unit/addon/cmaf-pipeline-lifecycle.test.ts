/**
 * Worker threads and the event loop: every pipeline's thread ends when it is closed (or
 * collected), and neither open nor closed pipelines keep the process from exiting.
 */
import { lifecycleSuite } from './lifecycle-suite.js';

lifecycleSuite('pipeline', 'pipeline');
