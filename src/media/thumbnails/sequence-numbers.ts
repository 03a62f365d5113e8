/**
 * Media sequence numbers for the live image playlist's segments (its preview tiles), kept while
 * the segments may be listed. Ids are epoch ms (a tile's time), growing by at least 1 ms per
 * segment; numbering starts at the first id and goes up by one per segment, so it never gets
 * ahead of the ids. A restart numbers again from the first restored id, which is at least the
 * number that segment had before: players following the playlist never see its
 * EXT-X-MEDIA-SEQUENCE go back. Segments restored behind numbered ones get the numbers just below.
 */
export class SequenceNumbers {
  private readonly numbers = new Map<number, number>();
  private next: number | undefined;

  /** Numbers the ids not numbered yet, in the order given: after the newest, or (`before`) just below the oldest. */
  assign(ids: readonly number[], before = false): void {
    const fresh = [...new Set(ids)].filter((id) => !this.numbers.has(id));
    if (fresh.length === 0) return;
    const lowest = before && this.numbers.size > 0 ? Math.min(...this.numbers.values()) : undefined;
    let n = lowest !== undefined ? lowest - fresh.length : (this.next ?? fresh[0]);
    for (const id of fresh) this.numbers.set(id, n++);
    if (lowest === undefined) this.next = n;
  }

  get(id: number): number | undefined {
    return this.numbers.get(id);
  }

  /** Forgets an id that can no longer be listed. */
  delete(id: number): void {
    this.numbers.delete(id);
  }
}
