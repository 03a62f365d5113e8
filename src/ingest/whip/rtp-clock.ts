/**
 * RTP numbers as the rest of the origin needs them: 16-bit sequence numbers and 32-bit
 * timestamps wrap (a timestamp at 90 kHz every 13 hours, a sequence number every few minutes of
 * video), so both are unwrapped into ever-growing integers; and each track's timestamps, which
 * start at a random value, are placed on one session clock.
 */

/** Unwraps a counter of `bits` bits that moves forwards (and a little backwards when packets reorder). */
export class Unwrapper {
  private last: number | undefined;
  private readonly range: number;

  constructor(bits: 16 | 32) {
    this.range = 2 ** bits;
  }

  unwrap(value: number): number {
    if (this.last === undefined) return (this.last = value);
    const half = this.range / 2;
    let delta = (value - (this.last % this.range) + this.range) % this.range;
    if (delta >= half) delta -= this.range; // behind the last value: a reordered or repeated packet
    const v = this.last + delta;
    if (delta > 0) this.last = v;
    return v;
  }
}

/**
 * One track's RTP timestamps on the session's clock, in the track's clock rate: the first packet
 * is placed at its arrival time since the session started, later ones by their timestamp
 * difference. WebRTC senders start each track's timestamps at a random value; arrival of the
 * first packets (on one host, or a short network path) lines audio and video up to within a
 * frame's encoding time, which is what a player's lip sync tolerates.
 */
export class RtpClock {
  private readonly timestamps = new Unwrapper(32);
  private base: { rtp: number; ticks: number } | undefined;

  constructor(private readonly clockRate: number, private readonly sessionStartMs: number) {}

  /** Ticks of the clock rate since the session started. */
  ticks(rtpTimestamp: number, arrivalMs: number): number {
    const t = this.timestamps.unwrap(rtpTimestamp);
    this.base ??= { rtp: t, ticks: Math.max(0, Math.round(((arrivalMs - this.sessionStartMs) * this.clockRate) / 1000)) };
    return this.base.ticks + (t - this.base.rtp);
  }
}
