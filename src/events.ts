import { EventEmitter } from 'node:events';

/**
 * The typed event map of the origin. Stages emit; the control plane (webhooks, API, alerts)
 * subscribes. Payloads are plain JSON-able records so they can be stored and sent as they are.
 */
export interface OriginEvents {
  /** A publisher connected and the session's media plays only with a preview token (until started). */
  'channel.preview': { channel: string; sessionId: string; remoteAddress: string };
  /** The session is public: started by an operator (`api`) or at once on a channel with autoStart (`auto`). */
  'channel.live': { channel: string; sessionId: string; startedBy: 'auto' | 'api' };
  /** The publisher came back within the reconnect window: the same session and playlist go on after a discontinuity. */
  'channel.reconnected': { channel: string; sessionId: string; remoteAddress: string; gapMs: number };
  /** The session is over (ENDLIST): stopped by an operator, or the publisher left and did not come back in time. */
  'channel.ended': { channel: string; sessionId: string; reason: string };
  /** Archiving or recording stopped because the disk is (nearly) full; live delivery goes on. */
  'storage.low': { dataDir: string; freeBytes: number; minFreeBytes: number; reason: string };
  /** Free space came back: archiving and recording resume. */
  'storage.ok': { dataDir: string; freeBytes: number };
  /** A source recording file was finalized (rotation or unpublish) and is complete. */
  'recording.ready': { channel: string; file: string; bytes: number; durationMs: number; startedAt: string; endedAt: string };
  /** Something failed for one channel; the channel's other work goes on where it can. */
  'channel.error': { channel: string; code: string; message: string };
  /**
   * Another input went on air because the one on air disconnected, stalled or fell below the
   * bitrate floor (a backup, or 'slate' when none was fit), or an operator chose it. `from` is
   * null when nothing was on air.
   */
  'input.failover': { channel: string; from: string | null; to: string; reason: string };
  /** The primary input is on air again (auto failback once healthy for failbackAfterSec, an operator, or the slate ending). */
  'input.restored': { channel: string; input: string; from: string | null; reason: string };
  /** A restream target accepted the channel's stream (NetStream.Publish.Start): it is being pushed there. */
  'restream.started': RestreamEvent & { attempt: number };
  /** A restream target refused, failed or dropped the stream; `retryInSec` says when the next try is (null: none, stopped). */
  'restream.failed': RestreamEvent & { error: string; retryInSec: number | null; attempt: number };
  /** Pushing to a restream target ended: the channel ended, an operator stopped it, or the target was removed. */
  'restream.stopped': RestreamEvent & { reason: string };
  /** An alert rule's condition held for its forSec: one event per rule and channel until it clears (src/ops/alerts). */
  'alert.raised': AlertRaised;
  /** The condition was gone for the rule's clearSec (or the rule, or the channel, is gone). */
  'alert.cleared': AlertCleared;
}

/** Which restream target an event is about; the URL with its stream key masked (never the key). */
export interface RestreamEvent {
  channel: string;
  target: string;
  name: string;
  url: string;
  rendition: string;
}

/** What an alert event says; `channel` is null for origin-wide rules (disk, event loop, webhooks). */
export interface AlertRaised {
  /** The same id on the raise and on its clear; the id of the alert in /v1/alerts. */
  alertId: string;
  rule: string;
  channel: string | null;
  /** The reading that broke the threshold (at clear: the reading then, null when there is none, e.g. the channel went idle). */
  value: number | null;
  threshold: number;
  unit: string;
  /** One sentence with the reason, as in the log line. */
  message: string;
}

export interface AlertCleared extends AlertRaised {
  /** When the alert was raised (ISO 8601) and how long it held. */
  raisedAt: string;
  durationMs: number;
}

export type OriginEventName = keyof OriginEvents;

export type AnyEventListener = <K extends OriginEventName>(name: K, payload: OriginEvents[K]) => void;

/** A typed EventEmitter: emit and on only accept the names and payloads of OriginEvents. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly anyListeners = new Set<AnyEventListener>();

  emit<K extends OriginEventName>(name: K, payload: OriginEvents[K]): void {
    this.emitter.emit(name, payload);
    // A listener that throws must not stop the others nor the stage that emitted (ingest, delivery).
    for (const l of this.anyListeners) {
      try { l(name, payload); } catch { /* the listener logs its own failures */ }
    }
  }

  /** Every event, in emit order: what the event store and the webhook outbox subscribe with. */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  on<K extends OriginEventName>(name: K, listener: (payload: OriginEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
