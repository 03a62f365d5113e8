/**
 * A queue of file operations run one after another, off the event loop (fs/promises runs them
 * on libuv's thread pool). Writers (archive, recordings) queue their appends here so they land
 * in order without ever blocking ingest or delivery.
 *
 * The queue is bounded by bytes: when the disk is slower than the stream, new work is refused
 * (the caller drops that segment and says so) instead of memory growing with the backlog.
 */
export class SerialWriter {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly maxPendingBytes: number,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
  ) {}

  /** Bytes queued and not yet written. */
  get pendingBytes(): number {
    return this.pending;
  }

  /**
   * Queues op; returns false without queueing when `bytes` more would exceed the bound.
   * An op that throws is reported through onError; the ops after it still run.
   */
  run(op: () => Promise<void>, bytes = 0): boolean {
    if (bytes > 0 && this.pending + bytes > this.maxPendingBytes) return false;
    this.pending += bytes;
    this.tail = this.tail.then(op).catch((err: NodeJS.ErrnoException) => this.onError(err))
      .finally(() => { this.pending -= bytes; });
    return true;
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
