import { basename, dirname } from 'node:path';
import send from '@fastify/send';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { RemoteRecording } from '../control/channel-runtime.js';
import { findChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { idParams, iso, isoTime, list, pathId } from './schemas.js';

/**
 * A channel's recording files: list, download (streamed from disk, with byte ranges so that a
 * download resumes and a browser's <video> seeks), delete.
 */

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

/** One byte range of `size` bytes from a Range header (bytes=a-b, bytes=a-, bytes=-n); null: unsatisfiable; undefined: the whole file. */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // absent, several ranges or another unit: the whole file, as send does
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? null : { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  return start >= size || end <= start ? null : { start, end };
}

/** A recording only the object store holds, streamed from it: whole or one range. */
async function sendRemote(reply: FastifyReply, remote: RemoteRecording, rangeHeader: string | undefined, name: string, gone: () => ApiError): Promise<FastifyReply> {
  const range = byteRange(rangeHeader, remote.size);
  if (range === null) {
    throw new ApiError('RANGE_NOT_SATISFIABLE', `the recording has ${remote.size} bytes`, undefined, { 'content-range': `bytes */${remote.size}` });
  }
  const opened = await remote.open(range);
  if (!opened) throw gone();
  reply.header('content-type', 'video/mp4').header('content-disposition', `attachment; filename="${name}"`).header('accept-ranges', 'bytes');
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end - 1}/${remote.size}`).header('content-length', range.end - range.start);
  else reply.code(200).header('content-length', remote.size);
  return reply.send(opened.body);
}

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
    schema: { tags, summary: 'Download a recording (video/mp4); Range, If-Range and conditional requests work', params: recordingParams,
      response: {
        200: z.any().describe('The MP4 file'),
        206: z.any().describe('The byte range asked for with Range (one range)'),
        304: z.any().describe('Not modified (If-None-Match, If-Modified-Since)'),
      }, 'x-download': 'video/mp4' },
    config: { access: 'read', errors: [404, 409, 412, 416] },
  }, async (req, reply) => {
    const { id, name } = req.params;
    await findChannel(ctx, id);
    const path = await ctx.runtime.recordingPath(id, name);
    if (path === undefined) {
      const remote = await ctx.runtime.remoteRecording?.(id, name);
      if (!remote) throw notFound(id, name);
      return sendRemote(reply, remote, req.headers.range, name, () => notFound(id, name));
    }
    // @fastify/send: Range (one range; several are answered whole), If-Range, ETag, Last-Modified, 304.
    const sent = await send(req.raw, `/${basename(path)}`, {
      root: dirname(path), index: false, dotfiles: 'allow', cacheControl: false, contentType: false,
    });
    const status = sent.statusCode;
    if (status !== 200 && status !== 206 && status !== 304) {
      sent.stream.destroy();
      if (status === 416) {
        throw new ApiError('RANGE_NOT_SATISFIABLE', `the recording has ${sent.headers['Content-Range']?.replace('bytes */', '')} bytes`,
          undefined, { 'content-range': sent.headers['Content-Range'] ?? '' });
      }
      if (status === 412) throw new ApiError('PRECONDITION_FAILED');
      throw notFound(id, name); // gone between the lookup and the open, or not a file
    }
    reply.code(status).headers(sent.headers);
    if (status !== 304) reply.header('content-type', 'video/mp4').header('content-disposition', `attachment; filename="${name}"`);
    return reply.send(sent.stream);
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
