import { EventEmitter } from 'node:events';

/**
 * The typed event map of the origin. Stages emit; the control plane (webhooks, API, alerts)
 * subscribes. Payloads are plain JSON-able records so they can be stored and sent as they are.
 */
export interface OriginEvents {
  /** Archiving or recording stopped because the disk is (nearly) full; live delivery goes on. */
  'storage.low': { dataDir: string; freeBytes: number; minFreeBytes: number; reason: string };
  /** Free space came back: archiving and recording resume. */
  'storage.ok': { dataDir: string; freeBytes: number };
  /** A source recording file was finalized (rotation or unpublish) and is complete. */
  'recording.ready': { channel: string; file: string; bytes: number; durationMs: number; startedAt: string; endedAt: string };
  /** Something failed for one channel; the channel's other work goes on where it can. */
  'channel.error': { channel: string; code: string; message: string };
}

export type OriginEventName = keyof OriginEvents;

/** A typed EventEmitter: emit and on only accept the names and payloads of OriginEvents. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  emit<K extends OriginEventName>(name: K, payload: OriginEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends OriginEventName>(name: K, listener: (payload: OriginEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
