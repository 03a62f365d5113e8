/**
 * The records the control plane keeps. Times are epoch milliseconds (integers on both
 * databases, so SQLite and PostgreSQL answer alike and no time zone is ever involved).
 */

export type LatencyMode = 'normal' | 'low' | 'ultra-low';
/** `none`: anyone with the URL plays; `required`: playlists, parts and segments need a signed token. */
export type PlaybackTokenPolicy = 'none' | 'required';
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Channel {
  id: string;
  name: string;
  latencyMode: LatencyMode;
  /** The transcode profile (ABR ladder) as the transcode work defines it; null = source only. */
  transcodeProfile: JsonObject | null;
  /** null = the server's dvr.windowSec. */
  dvrWindowSec: number | null;
  record: boolean;
  /** null = the server's archive.retentionHours. */
  retentionHours: number | null;
  /** true: a publisher goes live at once; false: preview until an operator starts the channel. */
  autoStart: boolean;
  /** CIDR blocks or addresses a publisher may connect from; empty = anywhere. */
  ipAllowList: string[];
  playbackTokenPolicy: PlaybackTokenPolicy;
  /** Failover settings of its inputs (config channels[].failover); null = the defaults. */
  failover: JsonObject | null;
  /** The passphrase of its SRT publishers; null = unencrypted SRT. */
  srtPassphrase: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ChannelInput = Pick<Channel, 'id' | 'name'> & Partial<Omit<Channel, 'id' | 'name' | 'createdAt' | 'updatedAt'>>;
export type ChannelPatch = Partial<Omit<Channel, 'id' | 'createdAt' | 'updatedAt'>>;

export interface StreamKey {
  id: string;
  channelId: string;
  /** The keyed hash (see KeyedHash) of the secret; the secret itself is never stored. */
  keyHash: string;
  /** The last characters of the secret, so an operator can tell keys apart. */
  hint: string;
  name: string | null;
  /** The channel input it publishes to: 'primary' or 'backup1'…'backup4'. */
  input: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface StreamKeyInput {
  id?: string;
  channelId: string;
  keyHash: string;
  hint: string;
  name?: string | null;
  /** Default 'primary'. */
  input?: string;
}

export type ApiScope = 'read' | 'write' | 'admin';

export interface ApiToken {
  id: string;
  name: string;
  secretHash: string;
  scopes: ApiScope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface ApiTokenInput {
  id?: string;
  name: string;
  secretHash: string;
  scopes: ApiScope[];
}

export interface StoredEvent {
  id: string;
  type: string;
  /** null for events about the whole origin (storage.low, …). */
  channelId: string | null;
  occurredAt: number;
  payload: JsonObject;
}

export interface EventInput {
  id?: string;
  type: string;
  channelId?: string | null;
  occurredAt?: number;
  payload: JsonObject;
}

export interface EventQuery extends PageRequest {
  channelId?: string;
  type?: string;
  /** Inclusive lower bound, epoch ms. */
  from?: number;
  /** Exclusive upper bound, epoch ms. */
  to?: number;
}

export type AlertState = 'active' | 'cleared';

/** One raised alert (src/ops/alerts), kept from its alert.raised and alert.cleared events. */
export interface StoredAlert {
  /** The alertId of its events. */
  id: string;
  rule: string;
  /** null for origin-wide rules. */
  channelId: string | null;
  state: AlertState;
  raisedAt: number;
  clearedAt: number | null;
  /** The reading when raised, against the threshold, in unit. */
  value: number | null;
  threshold: number;
  unit: string;
  message: string;
  /** The reading and the reason when cleared. */
  clearValue: number | null;
  clearMessage: string | null;
}

export interface AlertQuery extends PageRequest {
  state?: AlertState;
  channelId?: string;
  rule?: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Signing secret: kept as given, since every delivery must compute an HMAC with it. */
  secret: string;
  /** Event types delivered to this endpoint; `*` = all. */
  eventTypes: string[];
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type WebhookEndpointInput = Pick<WebhookEndpoint, 'url' | 'secret' | 'eventTypes'> & { id?: string; enabled?: boolean };
export type WebhookEndpointPatch = Partial<Pick<WebhookEndpoint, 'url' | 'secret' | 'eventTypes' | 'enabled'>>;

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event to one endpoint: a row of the durable outbox. */
export interface Delivery {
  id: number;
  endpointId: string;
  eventId: string;
  state: DeliveryState;
  /** Attempts started (a claim counts, so a delivery that crashes its process still backs off). */
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

/** What a sender needs to make one attempt, read in the same claim. */
export interface ClaimedDelivery {
  delivery: Delivery;
  event: StoredEvent;
  endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'secret'>;
}

export interface AttemptResult {
  /** HTTP status, when a response came. */
  status?: number | null;
  error?: string | null;
  durationMs: number;
}

/** One attempt in an endpoint's delivery log. */
export interface DeliveryAttempt {
  id: number;
  deliveryId: number;
  endpointId: string;
  eventId: string;
  attempt: number;
  at: number;
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface PageRequest {
  /** 1…500, default 50. */
  limit?: number;
  /** From the previous page's nextCursor. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass as cursor for the next page; null on the last page. */
  nextCursor: string | null;
}

/** One origin's figures of one channel for one minute (issue 17): counters that add up across rows. */
export type { MinuteFigures as AnalyticsMinute } from '../analytics/minute-aggregator.js';

/** A row of analytics_minutes as read back: which origin wrote it. */
export type StoredAnalyticsMinute = import('../analytics/minute-aggregator.js').MinuteFigures & { originId: string };

/** One origin's CCU of a channel at its latest sample. */
export interface LiveCcu {
  channelId: string;
  ccu: number;
  /** Origins whose latest sample is counted in `ccu`. */
  origins: number;
  /** The oldest of those samples, epoch ms. */
  sampledAt: number;
}

/** A channel's placement: the origin its publisher is on, until `expiresAt` passes without a renewal. */
export interface Placement {
  channelId: string;
  originId: string;
  /** That origin's HTTP URL as the other origins reach it (config cluster.originUrl). */
  originUrl: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** A restream target stored through the API; `sealedUrl` is the URL sealed with the server's key. */
export interface StoredRestreamTarget {
  id: string;
  channelId: string;
  name: string;
  sealedUrl: string;
  /** The URL with its stream key masked, kept beside the sealed one so a list needs no key. */
  urlHint: string;
  rendition: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type RestreamTargetInput = Pick<StoredRestreamTarget, 'channelId' | 'name' | 'sealedUrl' | 'urlHint' | 'rendition' | 'enabled'>;
export type RestreamTargetPatch = Partial<Pick<StoredRestreamTarget, 'name' | 'sealedUrl' | 'urlHint' | 'rendition' | 'enabled'>>;
