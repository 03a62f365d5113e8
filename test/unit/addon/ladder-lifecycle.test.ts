/**
 * The same lifecycle with a transcode ladder: the decoder and rung threads (and x264's) end
 * with the pipeline, whether closed, collected or left open at exit.
 */
import { lifecycleSuite } from './lifecycle-suite.js';

lifecycleSuite('ladder', 'pipeline with a ladder');
