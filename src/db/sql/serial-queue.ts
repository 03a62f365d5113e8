/**
 * Runs tasks one after another. The SQLite driver holds one connection, so a transaction whose
 * callback awaits must not see another caller's statements interleaved into it: every
 * statement and every transaction takes its turn here.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
