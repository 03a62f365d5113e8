import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { RequestObserver } from '../../delivery/handler.js';
import { bodyLength, type OriginReply, type OriginRequest } from '../../delivery/types.js';
import { PREFIX } from './registry.js';
import { RequestHistogram } from './request-histogram.js';
import { channelOfPath, requestKind, type RequestKind } from './request-kind.js';
import { scrapeTimeCounter } from './scrape-time.js';

/**
 * Seconds. A part or playlist that exists is answered in well under a millisecond; a blocking
 * reload waits for the next part (a part duration) and at most about three target durations
 * (6 s with 2-s segments) before the handler gives up, so the buckets reach 10 s.
 */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * HTTP requests of the delivery ports and of the API, counted as they are answered: the one
 * place where metrics cost something per request, so it is a histogram observation and, for a
 * channel's URL, one map update (measured in BENCHMARKS.md §8).
 */
export class HttpMetrics implements RequestObserver {
  private readonly duration: RequestHistogram;
  /** Body bytes sent per channel; only channels that exist, so a scan of made-up ids adds no series. */
  private readonly sent = new Map<string, number>();

  constructor(registry: Registry, private readonly isChannel: (id: string) => boolean) {
    this.duration = new RequestHistogram(registry, `${PREFIX}http_request_duration_seconds`,
      'HTTP requests by route kind and status class: time from the request to its reply (a blocking reload includes its wait; a streamed body is not included)',
      DURATION_BUCKETS);
    const sent = this.sent;
    scrapeTimeCounter({
      registry, name: `${PREFIX}channel_sent_bytes_total`, labelNames: ['channel'],
      help: 'Bytes of response bodies sent for the channel\'s URLs (live, archive, thumbnails), all delivery ports together',
      sample: (emit) => {
        for (const [channel, bytes] of sent) {
          if (isChannel(channel)) emit({ channel }, bytes);
          else sent.delete(channel);
        }
      },
    });
  }

  /** One request answered, `seconds` after it arrived. */
  observe(kind: RequestKind, status: number, seconds: number): void {
    this.duration.observe(kind, status, seconds);
  }

  /** The delivery handler's reply (RequestObserver). */
  replied(req: OriginRequest, reply: OriginReply, startedAt: number): void {
    this.observe(requestKind(req.path, req.query), reply.status, (performance.now() - startedAt) / 1000);
    const channel = channelOfPath(req.path);
    if (channel === undefined || !this.isChannel(channel)) return;
    // A streamed body (a segment read from disk) says its length in Content-Length when it knows it.
    const bytes = bodyLength(reply.body) ?? Number(reply.headers['content-length'] ?? 0);
    if (bytes > 0) this.sent.set(channel, (this.sent.get(channel) ?? 0) + bytes);
  }
}
