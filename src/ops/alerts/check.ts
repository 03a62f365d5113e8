/** One rule's reading now: whether it breaks the threshold, the figures, and the reason in words. */
export interface Check {
  breached: boolean;
  /** The reading, in unit; null when there is nothing to read (no publisher, no rung). */
  value: number | null;
  threshold: number;
  unit: string;
  message: string;
}

/** A reading that cannot break the threshold now (nothing to measure). */
export const notApplicable = (threshold: number, unit: string, message: string): Check =>
  ({ breached: false, value: null, threshold, unit, message });

/** Rounded for messages and payloads: 3 significant digits are plenty for an alert. */
export const round = (v: number): number => Number(v.toPrecision(3));
