/**
 * Raise after a condition has held for forMs, clear after it has been gone for clearMs, one
 * state per key (rule and channel): a condition that flaps inside those times changes nothing,
 * and a raised key is never raised again until it has cleared (no alert storm).
 */
export type Transition = 'raise' | 'clear' | null;

interface KeyState {
  raised: boolean;
  /** While not raised: since when the condition holds. */
  holdingSince?: number;
  /** While raised: since when the condition is gone. */
  goneSince?: number;
}

export class Hysteresis {
  private readonly keys = new Map<string, KeyState>();

  /** One observation of the condition at `now`; says whether the key is to be raised or cleared now. */
  observe(key: string, breached: boolean, now: number, forMs: number, clearMs: number): Transition {
    let s = this.keys.get(key);
    if (!s) {
      if (!breached) return null;
      this.keys.set(key, (s = { raised: false }));
    }
    if (!s.raised) {
      if (!breached) { this.keys.delete(key); return null; }
      s.holdingSince ??= now;
      if (now - s.holdingSince < forMs) return null;
      this.keys.set(key, { raised: true });
      return 'raise';
    }
    if (breached) { s.goneSince = undefined; return null; }
    s.goneSince ??= now;
    if (now - s.goneSince < clearMs) return null;
    this.keys.delete(key);
    return 'clear';
  }

  /** Marks a key raised (an alert still active at the last stop). */
  adopt(key: string): void {
    this.keys.set(key, { raised: true });
  }

  /** Forgets a key (cleared without an observation: its rule or channel is gone). */
  forget(key: string): void {
    this.keys.delete(key);
  }

  isRaised(key: string): boolean {
    return this.keys.get(key)?.raised === true;
  }

  raisedKeys(): string[] {
    return [...this.keys].filter(([, s]) => s.raised).map(([k]) => k);
  }
}
