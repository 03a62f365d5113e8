/**
 * The REST API's suite: every route through Fastify's inject (no sockets but one test), on a real
 * database, run as it is against SQLite (sqlite.test.ts) and PostgreSQL (postgres.test.ts).
 * The origin behind the API is the RecordingRuntime (state in memory, calls recorded).
 */
import type { Test } from 'tap';
import type { ApiTarget } from './api-harness.js';
import { adminSuite } from './suite-admin.js';
import { analyticsSuite } from './suite-analytics.js';
import { authSuite } from './suite-auth.js';
import { beaconSuite } from './suite-beacon.js';
import { channelSuite } from './suite-channels.js';
import { httpSuite } from './suite-http.js';
import { liveSuite } from './suite-live.js';
import { restreamSuite, srtPassphraseSuite } from './suite-restream.js';

export function apiSuite(t: Test, target: ApiTarget): void {
  t.test('auth', (t) => { authSuite(t, target); t.end(); });
  t.test('channels', (t) => { channelSuite(t, target); t.end(); });
  t.test('stream keys, control, playback, recordings', (t) => { liveSuite(t, target); t.end(); });
  t.test('API tokens, webhooks, events', (t) => { adminSuite(t, target); t.end(); });
  t.test('viewer analytics', (t) => { analyticsSuite(t, target); t.end(); });
  t.test('HTTP and OpenAPI', (t) => { httpSuite(t, target); t.end(); });
  t.test('player beacons', (t) => { beaconSuite(t, target); t.end(); });
  t.test('restream targets', (t) => { restreamSuite(t, target); t.end(); });
  t.test('SRT passphrase', (t) => { srtPassphraseSuite(t, target); t.end(); });
}
