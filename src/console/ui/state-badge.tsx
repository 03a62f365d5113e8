import type { ChannelState } from '../types.js';

/** A channel's state as a word with a colour, never colour alone. */
export function StateBadge({ state }: { state: ChannelState | undefined }) {
  const s = state ?? 'idle';
  return <span class={`badge state-${s}`} data-testid="state">{s}</span>;
}
