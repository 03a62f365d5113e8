import { readinessBody, type Readiness } from '../ops/readiness.js';
import type { OriginReply } from './types.js';

/** /readyz on the delivery ports: 200 or 503 with the JSON report; never cached by anything in between. */
export async function readinessReply(readiness: Readiness): Promise<OriginReply> {
  const { status, body } = readinessBody(await readiness.probe());
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from(JSON.stringify(body)) };
}
