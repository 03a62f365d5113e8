import type {
  Placement, AlertQuery, AnalyticsMinute, LiveCcu, StoredAnalyticsMinute, StoredAlert, ApiToken, ApiTokenInput, AttemptResult, Channel, ChannelInput, ChannelPatch, ClaimedDelivery, Delivery, DeliveryAttempt,
  DeliveryState, EventInput, EventQuery, Page, PageRequest, StoredEvent, StreamKey, StreamKeyInput, WebhookEndpoint,
  WebhookEndpointInput, WebhookEndpointPatch, RestreamTargetInput, RestreamTargetPatch, StoredRestreamTarget,
} from './types.js';
import type { MigrationReport } from './migrations/migrator.js';

/**
 * The persistence of the control plane: one async interface, served by SQLite (embedded
 * default) and PostgreSQL (several origins) alike. Every method may reject with the typed
 * errors of src/db/errors.ts (UniqueViolationError, ForeignKeyViolationError, …); "not found"
 * is an undefined or false result, never an error.
 */
export interface ChannelRepository {
  create(input: ChannelInput): Promise<Channel>;
  get(id: string): Promise<Channel | undefined>;
  /** By id. */
  list(page?: PageRequest): Promise<Page<Channel>>;
  /** Changes the given fields and updatedAt; undefined when there is no such channel. */
  update(id: string, patch: ChannelPatch): Promise<Channel | undefined>;
  /** Deletes the channel and its stream keys (its events stay). */
  delete(id: string): Promise<boolean>;
}

export interface StreamKeyRepository {
  create(input: StreamKeyInput): Promise<StreamKey>;
  get(id: string): Promise<StreamKey | undefined>;
  /** The publish lookup: the unrevoked key with this digest (KeyedHash of what the publisher sent). */
  findActiveByHash(keyHash: string): Promise<StreamKey | undefined>;
  /** Revoked keys too, oldest first. */
  listForChannel(channelId: string, page?: PageRequest): Promise<Page<StreamKey>>;
  /** False when there is no such key or it was already revoked. */
  revoke(id: string): Promise<boolean>;
  /** Creates the replacement for the same channel and revokes the old key, in one transaction. */
  rotate(id: string, replacement: Omit<StreamKeyInput, 'channelId'>): Promise<StreamKey | undefined>;
  markUsed(id: string): Promise<void>;
}

export interface ApiTokenRepository {
  create(input: ApiTokenInput): Promise<ApiToken>;
  get(id: string): Promise<ApiToken | undefined>;
  /** The unrevoked token with this digest. */
  findActiveByHash(secretHash: string): Promise<ApiToken | undefined>;
  /** Revoked tokens too, oldest first. */
  list(page?: PageRequest): Promise<Page<ApiToken>>;
  countActive(): Promise<number>;
  revoke(id: string): Promise<boolean>;
  markUsed(id: string): Promise<void>;
}

export interface EventRepository {
  /** Stores an event (id and occurredAt assigned when absent). */
  append(input: EventInput): Promise<StoredEvent>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** Newest first, filtered by channel, type and time range. */
  query(q?: EventQuery): Promise<Page<StoredEvent>>;
}

export interface AlertRepository {
  /**
   * Keeps the alerts table in step with an event just stored: alert.raised inserts an active
   * alert, alert.cleared clears it; other events are ignored. Called in the event's transaction.
   */
  project(event: StoredEvent): Promise<void>;
  get(id: string): Promise<StoredAlert | undefined>;
  /** Newest raise first, filtered by state, channel and rule. */
  list(q?: AlertQuery): Promise<Page<StoredAlert>>;
}

export interface WebhookEndpointRepository {
  create(input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  /** Oldest first. */
  list(page?: PageRequest): Promise<Page<WebhookEndpoint>>;
  update(id: string, patch: WebhookEndpointPatch): Promise<WebhookEndpoint | undefined>;
  /** Deletes the endpoint, its outbox rows and its delivery log. */
  delete(id: string): Promise<boolean>;
}

export interface ClaimOptions {
  /** Who holds the lease (unique per sender process); only the holder can complete the delivery. */
  owner: string;
  /** How long the claim is exclusive; after that another sender may take the delivery again. */
  leaseMs: number;
  /** 1…100, default 10. */
  limit?: number;
}

/**
 * The durable webhook outbox: one row per endpoint × event. Enqueued in the transaction that
 * stores the event, claimed with a lease by any number of senders (FOR UPDATE SKIP LOCKED on
 * PostgreSQL), completed or rescheduled by the lease holder; a sender that dies leaves a lease
 * that expires, and the delivery is claimed again.
 */
export interface WebhookOutbox {
  /** A pending delivery for each enabled endpoint subscribed to the event's type (or `*`). */
  enqueueForEvent(event: Pick<StoredEvent, 'id' | 'type'>): Promise<number>;
  /** Manual redelivery: the delivery is (re)created pending, due now, with a fresh attempt count. */
  redeliver(endpointId: string, eventId: string): Promise<Delivery>;
  /** Due, unleased, pending deliveries of enabled endpoints, oldest due first; each attempt counted. */
  claim(opts: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records a successful attempt; false when the lease is no longer this owner's. */
  complete(id: number, owner: string, result: AttemptResult): Promise<boolean>;
  /** Records a failed attempt: pending again at retryAt, or `failed` for good when retryAt is null. */
  fail(id: number, owner: string, result: AttemptResult, retryAt: number | null): Promise<boolean>;
  get(id: number): Promise<Delivery | undefined>;
  /** Newest first. */
  listForEndpoint(endpointId: string, q?: PageRequest & { state?: DeliveryState }): Promise<Page<Delivery>>;
  countByState(): Promise<Record<DeliveryState, number>>;
}

/** Every attempt made, per endpoint: what the API's delivery log shows. */
export interface DeliveryLog {
  /** Newest first. */
  listForEndpoint(endpointId: string, page?: PageRequest): Promise<Page<DeliveryAttempt>>;
  /** Oldest first. */
  listForDelivery(deliveryId: number): Promise<DeliveryAttempt[]>;
}

/** Viewer analytics (issue 17): each origin's minute rows and latest CCU; readers add the origins up. */
export interface AnalyticsRepository {
  /** Adds one origin's minute rows in one transaction: a row already there for the minute is merged (counters add, ccuMax the larger). */
  addMinutes(originId: string, rows: readonly AnalyticsMinute[]): Promise<void>;
  /** Every origin's rows of a channel with minute in [from, to), by minute. */
  minutes(channelId: string, from: number, to: number): Promise<StoredAnalyticsMinute[]>;
  /** Every channel's rows with minute in [from, to), by channel then minute (one query for a per-channel table). */
  minutesOfAll(from: number, to: number): Promise<StoredAnalyticsMinute[]>;
  /** Replaces this origin's latest CCU per channel. */
  putLive(originId: string, atMs: number, ccu: readonly { channelId: string; ccu: number }[]): Promise<void>;
  /** CCU per channel, summed over the origins whose latest sample is at or after `since`. */
  live(since: number): Promise<LiveCcu[]>;
  /** The retention sweep: deletes minute rows before `minute`; how many. */
  deleteBefore(minute: number): Promise<number>;
}

/** Where each channel is live: lease rows (src/control/placement.ts). */
export interface PlacementRepository {
  /** Takes or renews the channel's lease unless another origin holds it unexpired; returns the row as it now is. */
  claim(placement: Placement, now: number): Promise<Placement>;
  /** Gives the lease up, if this origin holds it. */
  release(channelId: string, originId: string): Promise<boolean>;
  get(channelId: string): Promise<Placement | undefined>;
  list(): Promise<Placement[]>;
}

/** Restream targets added through the API, per channel (src/restream). */
export interface RestreamTargetRepository {
  create(input: RestreamTargetInput): Promise<StoredRestreamTarget>;
  get(id: string): Promise<StoredRestreamTarget | undefined>;
  /** Oldest first (two created in one millisecond: in id order, which is random). */
  listForChannel(channelId: string): Promise<StoredRestreamTarget[]>;
  update(id: string, patch: RestreamTargetPatch): Promise<StoredRestreamTarget | undefined>;
  delete(id: string): Promise<boolean>;
}

export interface Repositories {
  readonly channels: ChannelRepository;
  readonly placements: PlacementRepository;
  readonly restreamTargets: RestreamTargetRepository;
  readonly streamKeys: StreamKeyRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly events: EventRepository;
  readonly alerts: AlertRepository;
  readonly webhooks: WebhookEndpointRepository;
  readonly outbox: WebhookOutbox;
  readonly deliveryLog: DeliveryLog;
  readonly analytics: AnalyticsRepository;
}

export interface Database extends Repositories {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Runs fn in one transaction over repositories bound to it: all its writes commit together
   * or not at all (e.g. an event and its outbox rows). Use only the repositories fn receives.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Applies pending migrations (openDatabase already did); idempotent. */
  migrate(): Promise<MigrationReport>;
  /** The cheapest round trip (SELECT 1): resolves when the database answers, for readiness. */
  ping(): Promise<void>;
  /** Idempotent; waits for statements in flight. */
  close(): Promise<void>;
}
