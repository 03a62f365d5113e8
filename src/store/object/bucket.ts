import { createReadStream } from 'node:fs';
import {
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

// The SDK prints a multi-line notice on Node 20 (its releases after January 2027 need Node 22)
// to stderr, outside the JSON log; the lockfile pins a release that runs on Node 20 (README,
// Archive and recordings on object storage, says what an upgrade needs).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where the object store is and how to reach it (config `objectStore`; credentials come from the environment). */
export interface BucketSettings {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, Ceph RGW, R2, …); absent: AWS S3 of `region`. */
  endpoint?: string;
  region: string;
  /** Path-style URLs (endpoint/bucket/key), which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Every key starts with this (several deployments in one bucket). */
  prefix: string;
}

/** What this origin asked of the object store since start (/metrics, the upload benchmark). */
export class BucketTally {
  puts = 0;
  gets = 0;
  lists = 0;
  deletes = 0;
  bytesUp = 0;
  bytesDown = 0;
  errors = 0;
}

/** A multipart upload above this size (S3's parts are at least 5 MiB). */
const MULTIPART_FROM_BYTES = 16 * 1024 * 1024;
const PART_BYTES = 8 * 1024 * 1024;

const notFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  // A missing bucket is a broken setup, not a missing object.
  return e.name !== 'NoSuchBucket' && (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404);
};

/**
 * One bucket of an S3-compatible object store, with only what the archive and the recordings
 * need: whole and ranged reads, puts (multipart for large files), listings by prefix and
 * delimiter, deletes by prefix. Keys are relative (the prefix is added here). Credentials are
 * the AWS SDK's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an
 * instance/pod role, never the config file.
 */
export class Bucket {
  readonly client: S3Client;
  readonly tally = new BucketTally();
  private readonly prefix: string;

  constructor(readonly settings: BucketSettings, clientOverrides: Partial<S3ClientConfig> = {}) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      // The SDK's default checksums send streamed bodies aws-chunked with a trailer, which
      // several S3-compatible servers (Ceph RGW 16 among them) refuse: checksum only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      ...clientOverrides,
    });
    this.prefix = settings.prefix.replace(/^\/+|\/+$/g, '');
  }

  key(relative: string): string {
    return this.prefix ? `${this.prefix}/${relative}` : relative;
  }

  private relative(key: string): string {
    return this.prefix ? key.slice(this.prefix.length + 1) : key;
  }

  private async counted<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!notFound(err)) this.tally.errors++;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string, contentType = 'application/octet-stream'): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    this.tally.puts++;
    await this.counted(() => this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key), Body: data, ContentType: contentType })));
    this.tally.bytesUp += data.length;
  }

  /** Uploads a local file: one PUT when small, a multipart upload (8 MiB parts, 4 at a time) when large. */
  async putFile(key: string, path: string, size: number, contentType = 'application/octet-stream'): Promise<void> {
    if (size < MULTIPART_FROM_BYTES) {
      this.tally.puts++;
      await this.counted(() => this.client.send(new PutObjectCommand({
        Bucket: this.settings.bucket, Key: this.key(key), Body: createReadStream(path), ContentLength: size, ContentType: contentType,
      })));
    } else {
      const upload = new Upload({ client: this.client, partSize: PART_BYTES, queueSize: 4, leavePartsOnError: false,
        params: { Bucket: this.settings.bucket, Key: this.key(key), Body: createReadStream(path), ContentType: contentType } });
      this.tally.puts += Math.ceil(size / PART_BYTES) + 2;
      await this.counted(() => upload.done());
    }
    this.tally.bytesUp += size;
  }

  /** The object's bytes, or [start, end) of them; undefined when there is no such object. */
  async get(key: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
    if (range && range.end <= range.start) return Buffer.alloc(0);
    this.tally.gets++;
    try {
      const out = await this.counted(() => this.client.send(new GetObjectCommand({
        Bucket: this.settings.bucket, Key: this.key(key), Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
      })));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      this.tally.bytesDown += bytes.length;
      return bytes;
    } catch (err) {
      // A range past the end of an object that exists answers 416: nothing there, like a short read.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return Buffer.alloc(0);
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** The object as a stream (recording downloads), with its size; undefined when absent. */
  async open(key: string, range?: { start: number; end: number }): Promise<{ body: NodeJS.ReadableStream; size: number } | undefined> {
    this.tally.gets++;
    try {
      const out = await this.counted(() => this.client.send(new GetObjectCommand({
        Bucket: this.settings.bucket, Key: this.key(key), Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
      })));
      return { body: out.Body as NodeJS.ReadableStream, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async size(key: string): Promise<number | undefined> {
    this.tally.gets++;
    try {
      const out = await this.counted(() => this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key) })));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Keys under `prefix` (relative, ending with '/'), split at the next '/' as a file system
   * lists a directory: `objects` directly under it, `dirs` the names of deeper levels.
   */
  async list(prefix: string): Promise<{ objects: { name: string; size: number }[]; dirs: string[] }> {
    const objects: { name: string; size: number }[] = [], dirs: string[] = [];
    const full = this.key(prefix);
    let token: string | undefined;
    do {
      this.tally.lists++;
      const out = await this.counted(() => this.client.send(new ListObjectsV2Command({
        Bucket: this.settings.bucket, Prefix: full, Delimiter: '/', ContinuationToken: token,
      })));
      for (const o of out.Contents ?? []) if (o.Key) objects.push({ name: o.Key.slice(full.length), size: o.Size ?? 0 });
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) dirs.push(p.Prefix.slice(full.length, -1));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return { objects, dirs };
  }

  /** Every key under `prefix` (relative), at any depth. */
  async listAll(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      this.tally.lists++;
      const out = await this.counted(() => this.client.send(new ListObjectsV2Command({
        Bucket: this.settings.bucket, Prefix: this.key(prefix), ContinuationToken: token,
      })));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(this.relative(o.Key));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Deletes these keys (relative), 1000 per request; missing keys are fine. */
  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      this.tally.deletes++;
      const out = await this.counted(() => this.client.send(new DeleteObjectsCommand({
        Bucket: this.settings.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.key(k) })), Quiet: true },
      })));
      if (out.Errors?.length) {
        this.tally.errors++;
        throw new Error(`object store: ${out.Errors.length} of ${batch.length} deletes failed (${out.Errors[0].Code}: ${out.Errors[0].Key})`);
      }
    }
  }

  /** Deletes everything under `prefix` (relative). */
  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.listAll(prefix);
    await this.delete(keys);
    return keys.length;
  }

  destroy(): void {
    this.client.destroy();
  }
}
