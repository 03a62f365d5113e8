import type { JsonObject, StoredEvent } from '../../db/types.js';
import { SIGNATURE_HEADER, signWebhook } from './signing.js';

/** The JSON body of every webhook request: the stored event, as the events API shows it. */
export interface WebhookPayload {
  /** The event id: the same on every attempt and redelivery, so a receiver can de-duplicate. */
  id: string;
  type: string;
  channelId: string | null;
  /** ISO 8601, UTC, milliseconds. */
  occurredAt: string;
  /** The event's payload as the origin emitted it. */
  data: JsonObject;
}

export const USER_AGENT = 'SigmaLive-Webhooks/1';

export interface WebhookRequest {
  /** Exactly the bytes signed. */
  body: string;
  headers: Record<string, string>;
}

export function webhookPayload(event: StoredEvent): WebhookPayload {
  return { id: event.id, type: event.type, channelId: event.channelId, occurredAt: new Date(event.occurredAt).toISOString(), data: event.payload };
}

/** The body and headers of one attempt (attempt counts from 1), signed at nowSec. */
export function webhookRequest(event: StoredEvent, secret: string, attempt: number, nowSec: number): WebhookRequest {
  const body = JSON.stringify(webhookPayload(event));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      [SIGNATURE_HEADER]: signWebhook(secret, body, nowSec),
      'Sigma-Event-Id': event.id,
      'Sigma-Event-Type': event.type,
      'Sigma-Delivery-Attempt': String(attempt),
    },
  };
}
