import type { OriginEventName } from '../events.js';

/** Every event type the origin emits (a Record, so a type added to OriginEvents must be listed here). */
const TYPES: Record<OriginEventName, true> = {
  'channel.preview': true,
  'channel.live': true,
  'channel.reconnected': true,
  'channel.ended': true,
  'channel.error': true,
  'recording.ready': true,
  'storage.low': true,
  'storage.ok': true,
  'input.failover': true,
  'input.restored': true,
  'alert.raised': true,
  'alert.cleared': true,
  'restream.started': true,
  'restream.failed': true,
  'restream.stopped': true,
};

export const EVENT_TYPES = Object.keys(TYPES) as OriginEventName[];
