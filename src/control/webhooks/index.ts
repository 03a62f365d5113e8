/** Webhooks: signed JSON POSTs of stored events, delivered from the durable outbox (docs/webhooks.md). */
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature, type VerifyOptions, type VerifyResult } from './signing.js';
export { USER_AGENT, webhookPayload, webhookRequest, type WebhookPayload, type WebhookRequest } from './payload.js';
export { nextRetryAt, nominalRetryDelayMs, retryDelayMs, retrySchedule, FIRST_RETRY_MS, MAX_RETRY_MS, JITTER } from './backoff.js';
export { postWebhook, MAX_RESPONSE_BYTES, type PostResult } from './post.js';
export { WebhookSender, type WebhookSenderOptions } from './sender.js';
