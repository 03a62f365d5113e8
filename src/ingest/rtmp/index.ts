/** RTMP ingest: the listener, and the pure protocol pieces for reuse and tests. */
export { RtmpServer, type RtmpServerOptions } from './rtmp-server.js';
export { RtmpSession, RTMP_APP, type PublishDecision, type PublishRequest, type RtmpSessionOptions } from './rtmp-session.js';
export { RtmpProtocolError, type RtmpErrorKind } from './errors.js';
export { parseSps, parseAvcConfig, type SpsInfo, type AvcConfig } from '../codecs/sps.js';
export { parseAudioSpecificConfig, type AacConfig } from '../codecs/aac.js';
