export { parseCmaf, type ParsedCmaf, type ParsedTrackRun } from '../unit/addon/fixtures.js';
