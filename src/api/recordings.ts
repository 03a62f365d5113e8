import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { findChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { idParams, iso, isoTime, list, pathId } from './schemas.js';

/** A channel's recording files: list, download (streamed from disk), delete. */

const recordingView = z.object({
  name: z.string().describe('File name: what download and delete take'),
  bytes: z.number().int(),
  durationMs: z.number(),
  startedAt: isoTime,
  endedAt: isoTime.describe('Now, while it is still being recorded'),
  complete: z.boolean().describe('false while it is still being recorded (it cannot be deleted then)'),
});

/** A file name, never a path: no separators, no leading dot. */
const recordingParams = z.object({
  id: pathId,
  name: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/, 'a recording file name (letters, digits, . _ -)'),
});

export function recordingRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['recordings'];
  const notFound = (id: string, name: string) => new ApiError('RECORDING_NOT_FOUND', `channel "${id}" has no recording "${name}"`);

  app.get('/v1/channels/:id/recordings', {
    schema: { tags, summary: 'List a channel\'s recordings', params: idParams, response: { 200: list(recordingView) } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    const items = await ctx.runtime.recordings(req.params.id);
    return { items: items.map((r) => ({ ...r, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt) })) };
  });

  app.get('/v1/channels/:id/recordings/:name', {
    schema: { tags, summary: 'Download a recording (video/mp4)', params: recordingParams,
      response: { 200: z.any().describe('The MP4 file') }, 'x-download': 'video/mp4' },
    config: { access: 'read', errors: [404, 409] },
  }, async (req, reply) => {
    const { id, name } = req.params;
    await findChannel(ctx, id);
    const path = await ctx.runtime.recordingPath(id, name);
    const size = path === undefined ? undefined : await stat(path).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
    if (path === undefined || size === undefined) throw notFound(id, name);
    return reply
      .header('content-type', 'video/mp4')
      .header('content-length', String(size))
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(createReadStream(path));
  });

  app.delete('/v1/channels/:id/recordings/:name', {
    schema: { tags, summary: 'Delete a recording', params: recordingParams, response: { 204: z.void().describe('Deleted') } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    const { id, name } = req.params;
    await findChannel(ctx, id);
    if (!(await ctx.runtime.deleteRecording(id, name))) throw notFound(id, name);
    return reply.code(204).send();
  });
}
