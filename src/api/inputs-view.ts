import { z } from 'zod';
import type { InputsStatus } from '../media/inputs/input-switch.js';
import { isoTime } from './schemas.js';

/** A channel's inputs (primary and backups) and which one is on air, as the channel status shows them. */
export const inputsView = z.object({
  active: z.string().nullable().describe("The input on air: 'primary', 'backup1'…, 'slate', or null when none is connected"),
  failovers: z.number().int().describe('switches away from an input since the origin started (to a backup or the slate)'),
  slateMs: z.number().describe('time the slate has been on air since the origin started'),
  inputs: z.array(z.object({
    name: z.string(),
    active: z.boolean(),
    healthy: z.boolean().describe('fit to be on air: sending, a keyframe seen, above the bitrate floor'),
    problem: z.enum(['stalled', 'low-bitrate', 'no-keyframe', 'disconnected']).nullable(),
    remoteAddress: z.string(),
    software: z.string().nullable(),
    connectedAt: isoTime,
    lastFrameAgeMs: z.number().nullable(),
    bitrateKbps: z.number(),
  })).describe('connected inputs, primary first'),
});

export function inputsViewOf(s: InputsStatus): z.input<typeof inputsView> {
  return { ...s, inputs: s.inputs.map((i) => ({ ...i, problem: i.problem as z.input<typeof inputsView>['inputs'][number]['problem'] })) };
}
