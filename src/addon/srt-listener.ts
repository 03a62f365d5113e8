import { loadNative } from './native-module.js';

/** Statistics libsrt keeps for one connection (srt_bstats, totals since it opened). */
export interface SrtStats {
  rttMs: number;
  receiveRateMbps: number;
  packetsReceived: number;
  packetsLost: number;
  packetsRetransmitted: number;
  /** Too late to play (beyond the latency window): lost for good. */
  packetsDropped: number;
  packetsUndecrypted: number;
  bytesReceived: number;
  latencyMs: number;
  /** Packets the addon dropped because the event loop did not keep up (all connections). */
  packetsDroppedBeforeJs: number;
}

export type SrtEvent =
  /** A caller's handshake: answer() before it completes (within 3 s), with a passphrase when the channel has one. */
  | { kind: 'request'; conn: number; streamId: string; remoteAddress: string }
  | { kind: 'open'; conn: number; streamId: string; remoteAddress: string }
  | { kind: 'streams'; conn: number; streams: { index: number; type: 'video' | 'audio' | 'other'; codec: string }[] }
  /** One elementary stream packet as the MPEG-TS carried it (H.264 Annex B, AAC with ADTS); 90 kHz timestamps. */
  | { kind: 'packet'; conn: number; stream: number; pts: number | null; dts: number | null; keyframe: boolean; data: Buffer }
  | { kind: 'closed'; conn: number; reason: string };

interface NativeSrtServer {
  onEvent?: (kind: string, payload: Record<string, unknown>) => void;
  start(): number;
  answer(conn: number, accept: boolean, passphrase?: string, rejectCode?: number): boolean;
  closeConnection(conn: number): boolean;
  stats(conn: number): SrtStats | undefined;
  close(): void;
}

/** SRT reject reasons (srt/access_control.h) an SRT caller shows. */
export const SRT_REJECT = { badRequest: 1400, unauthorized: 1401, overload: 1402, forbidden: 1403, notFound: 1404, badMode: 1405, conflict: 1409 } as const;

/**
 * The addon's SRT listener (native/srt_server.cc): libsrt receives, libavformat demuxes the
 * MPEG-TS, each on its own thread per connection; events arrive here on the event loop.
 */
export class SrtListener {
  private readonly native: NativeSrtServer;

  constructor(o: { host: string; port: number; latencyMs: number; maxConnections: number; idleTimeoutMs: number }, onEvent: (e: SrtEvent) => void) {
    const { SrtServer } = loadNative<{ SrtServer: new (o: object) => NativeSrtServer }>();
    this.native = new SrtServer(o);
    this.native.onEvent = (kind, payload) => onEvent({ kind, ...payload } as SrtEvent);
  }

  /** Binds and listens; the bound port. */
  start(): number {
    return this.native.start();
  }

  answer(conn: number, decision: { accept: true; passphrase?: string } | { accept: false; rejectCode: number }): void {
    if (decision.accept) this.native.answer(conn, true, decision.passphrase);
    else this.native.answer(conn, false, undefined, decision.rejectCode);
  }

  closeConnection(conn: number): void {
    this.native.closeConnection(conn);
  }

  stats(conn: number): SrtStats | undefined {
    return this.native.stats(conn);
  }

  /** Stops listening, ends every connection and joins the threads ('closed' events still come). */
  close(): void {
    this.native.close();
  }
}
