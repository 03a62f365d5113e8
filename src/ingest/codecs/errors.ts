/**
 * A codec configuration (SPS, avcC, AudioSpecificConfig) that cannot be read. Each ingest turns
 * it into its own refusal: RTMP closes the connection with a 'codec' protocol error, SRT and
 * WHIP drop the packet and count it.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(readonly reason: string) {
    super(`codec: ${reason}`);
  }
}
