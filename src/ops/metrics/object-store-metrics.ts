import type { Registry } from 'prom-client';
import { PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge } from './scrape-time.js';

/** What the object-store metrics read (src/store/object): the bucket's tally, the upload lanes, the read cache. */
export interface MeteredObjectStore {
  readonly tally: { puts: number; gets: number; lists: number; deletes: number; bytesUp: number; bytesDown: number; errors: number };
  readonly uploadsWaiting: number;
  readonly oldestWaitingSec: number;
  readonly cache: { hits: number; misses: number; bytes: number };
}

/** The object store's requests, bytes, failures and upload backlog; no samples without objectStore.bucket. */
export function registerObjectStoreMetrics(registry: Registry, store: () => MeteredObjectStore | undefined): void {
  scrapeTimeCounter({
    registry, name: `${PREFIX}object_store_requests_total`, labelNames: ['op'],
    help: 'Requests to the object store by operation: put (a multipart upload counts its parts), get (with HEAD), list, delete (batches of up to 1000 keys)',
    sample: (emit) => {
      const t = store()?.tally;
      if (t) for (const [op, n] of [['put', t.puts], ['get', t.gets], ['list', t.lists], ['delete', t.deletes]] as const) emit({ op }, n);
    },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}object_store_bytes_total`, labelNames: ['direction'],
    help: 'Bytes uploaded to (up) and read from (down) the object store',
    sample: (emit) => { const t = store()?.tally; if (t) { emit({ direction: 'up' }, t.bytesUp); emit({ direction: 'down' }, t.bytesDown); } },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}object_store_errors_total`, labelNames: [],
    help: 'Object store requests that failed (a missing object is not a failure); failed uploads are retried',
    sample: (emit) => { const t = store()?.tally; if (t) emit({}, t.errors); },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}object_store_uploads_waiting`, labelNames: [],
    help: 'Uploads (and deletes) queued or in flight; grows while the store is away',
    sample: (emit) => { const s = store(); if (s) emit({}, s.uploadsWaiting); },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}object_store_oldest_upload_age_seconds`, labelNames: [],
    help: 'Age of the oldest upload still waiting (0 when none): how far the store is behind the local disk',
    sample: (emit) => { const s = store(); if (s) emit({}, s.oldestWaitingSec); },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}object_store_read_cache_total`, labelNames: ['result'],
    help: 'Reads of the object store answered from the read cache (hit) or not (miss)',
    sample: (emit) => { const c = store()?.cache; if (c) { emit({ result: 'hit' }, c.hits); emit({ result: 'miss' }, c.misses); } },
  });
}
