// The shared cache's stores: a folder (`file:///path`, e.g. a network share) and any
// S3-compatible bucket (`s3://bucket/prefix`). The S3 client is imported only when an s3:// URL
// is used, so a run without a shared cache never loads the AWS SDK.
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { makeDirectory, ShipgateError } from '@shipgate/protocol';
import { tempName } from './objects.js';
import { raceSignal, type BlobStore } from './shared.js';

/** A folder. File system calls cannot be aborted, so each is raced against its time bound. */
export class FileBlobStore implements BlobStore {
  constructor(
    readonly root: string,
    readonly label: string,
  ) {}

  async get(name: string, signal: AbortSignal): Promise<Readable | undefined> {
    const file = path.join(this.root, name);
    try {
      const handle = await raceSignal(open(file, 'r'), signal);
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async has(name: string, signal: AbortSignal): Promise<boolean> {
    try {
      await raceSignal(stat(path.join(this.root, name)), signal);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async put(name: string, body: () => Readable, _size: number, signal: AbortSignal): Promise<void> {
    const file = path.join(this.root, name);
    const tmp = tempName(file);
    const write = async (): Promise<void> => {
      await makeDirectory(path.dirname(file));
      await pipeline(body(), createWriteStream(tmp), { signal });
      // rename last: readers on other machines see the whole blob or none
      await rename(tmp, file);
    };
    try {
      await raceSignal(write(), signal);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }
}

/** Subset of @aws-sdk/client-s3 used here, so the module is loaded on first use only. */
type S3Module = typeof import('@aws-sdk/client-s3');

export class S3BlobStore implements BlobStore {
  private client: Promise<{ s3: import('@aws-sdk/client-s3').S3Client; sdk: S3Module }> | undefined;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    readonly label: string,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly timeoutMs: number,
  ) {}

  async ready(): Promise<void> {
    await this.connect();
  }

  private connect(): Promise<{ s3: import('@aws-sdk/client-s3').S3Client; sdk: S3Module }> {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => {
      const endpoint = this.env.AWS_ENDPOINT_URL_S3 ?? this.env.AWS_ENDPOINT_URL;
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = this.env;
      const s3 = new sdk.S3Client({
        // keys from the run's environment when it has them, else the SDK's usual chain (profiles, roles)
        ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
        region: this.env.AWS_REGION ?? this.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        // one retry at most: the cache is an optimisation, a struggling store is switched off
        maxAttempts: 2,
        requestHandler: { connectionTimeout: this.timeoutMs, requestTimeout: this.timeoutMs },
        // shipgate verifies every blob by sha256 itself; the flexible checksums of newer SDKs
        // (aws-chunked uploads with trailers) are not understood by every S3-compatible store
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return { s3, sdk };
    });
    return this.client;
  }

  private key(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  async get(name: string, signal: AbortSignal): Promise<Readable | undefined> {
    const { s3, sdk } = await this.connect();
    try {
      const answer = await s3.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }), { abortSignal: signal });
      return answer.Body as Readable;
    } catch (error) {
      if (error instanceof sdk.NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async has(name: string, signal: AbortSignal): Promise<boolean> {
    const { s3, sdk } = await this.connect();
    try {
      await s3.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }), { abortSignal: signal });
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }

  async put(name: string, body: () => Readable, size: number, signal: AbortSignal): Promise<void> {
    const { s3, sdk } = await this.connect();
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: body(), ContentLength: size }), { abortSignal: signal });
  }
}

/** The store a shared cache URL names. Throws cache.url for anything but file:// and s3://. */
export function openBlobStore(url: string, env: Readonly<Record<string, string | undefined>>, timeoutMs: number): BlobStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ShipgateError('cache.url', `the shared cache URL "${url}" is not a URL`, { hint: 'use file:///path/to/folder or s3://bucket/prefix' });
  }
  if (parsed.protocol === 'file:') {
    const root = fileURLToPath(parsed);
    return new FileBlobStore(root, `file://${root}`);
  }
  if (parsed.protocol === 's3:') {
    const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
    if (!parsed.hostname) throw new ShipgateError('cache.url', `the shared cache URL "${url}" names no bucket`, { hint: 'use s3://bucket/prefix' });
    return new S3BlobStore(parsed.hostname, prefix, `s3://${parsed.hostname}${prefix ? `/${prefix}` : ''}`, env, timeoutMs);
  }
  throw new ShipgateError('cache.url', `the shared cache URL "${url}" is neither file:// nor s3://`, { hint: 'use file:///path/to/folder or s3://bucket/prefix' });
}
