/**
 * Where in the protocol a peer's input was rejected. Lets the session log a stable category
 * while `reason` carries the human explanation.
 */
export type RtmpErrorKind = 'handshake' | 'chunk' | 'amf' | 'codec' | 'command';

/**
 * Thrown by the pure protocol modules (handshake, chunk stream, AMF0, SPS, FLV) when the peer
 * sent something we will not (or cannot) process. The connection that produced it is closed;
 * nothing else is affected.
 */
export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
  constructor(readonly kind: RtmpErrorKind, readonly reason: string) {
    super(`${kind}: ${reason}`);
  }
}
