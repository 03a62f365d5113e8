/**
 * Worker threads and the event loop: every thumbnailer's thread ends when it is closed (or
 * collected), and neither open nor closed thumbnailers keep the process from exiting, also
 * with keyframes still queued or being decoded.
 */
import { lifecycleSuite } from './lifecycle-suite.js';

lifecycleSuite('thumbnailer', 'thumbnailer');
