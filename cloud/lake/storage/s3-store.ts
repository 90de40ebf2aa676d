import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectStoreError, type ObjectMeta, type ObjectStore } from './object-store.js';

/** How to reach an S3-compatible store; empty strings mean "the SDK's default" (AWS endpoint, credential chain). */
export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** Bodies above this go up as a multipart upload (parts of this size), below it in one PUT. */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
/** 409 ConditionalRequestConflict: another conditional write on the key was in flight; try the same key again. */
const CONDITIONAL_CONFLICT_ATTEMPTS = 5;

export function s3Client(settings: S3Settings): S3Client {
  const config: S3ClientConfig = { region: settings.region, forcePathStyle: settings.forcePathStyle };
  if (settings.endpoint !== '') config.endpoint = settings.endpoint;
  if (settings.accessKeyId !== '') {
    config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey };
  }
  return new S3Client(config);
}

/**
 * A store under `s3://bucket/prefix`. Commits use a conditional PUT (`If-None-Match: *`), which AWS
 * S3, MinIO and moto honour: 412 means the version was taken. Never share a table with writers
 * that commit another way (Delta Spark's S3SingleDriverLogStore): their commits could overwrite ours.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly root: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix: string,
  ) {
    this.root = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${bucket}/${this.root}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.read(key, undefined);
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer | undefined> {
    if (end <= start) return (await this.exists(key)) ? Buffer.alloc(0) : undefined;
    return this.read(key, `bytes=${start}-${end - 1}`);
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.call('put', key, async () => {
      if (body.length <= MULTIPART_THRESHOLD) {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.root + key, Body: body }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: this.root + key, Body: body },
        partSize: MULTIPART_THRESHOLD,
        queueSize: 2,
      });
      await upload.done();
    });
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.root + key, Body: body, IfNoneMatch: '*' }));
        return true;
      } catch (err) {
        const status = httpStatus(err);
        if (status === 412) return false;
        if (status === 409 && attempt < CONDITIONAL_CONFLICT_ATTEMPTS) {
          await sleep(50 * attempt);
          continue;
        }
        throw this.failure('conditional put', key, err);
      }
    }
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.root + key })));
  }

  async list(prefix: string, options: { startAfter?: string } = {}): Promise<ObjectMeta[]> {
    const out: ObjectMeta[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.root + prefix,
            StartAfter: options.startAfter === undefined ? undefined : this.root + options.startAfter,
            ContinuationToken: continuationToken,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        out.push({ key: object.Key.slice(this.root.length), size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 });
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * A URL anyone holding it may GET the object with, until it expires (SigV4 query signing, so the
   * store checks the expiry itself; at most 7 days, S3's limit). Signed locally: no request is made.
   */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.root + key }), { expiresIn: expiresInSeconds });
  }

  private async read(key: string, range: string | undefined): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.root + key, Range: range }));
      const bytes = await response.Body?.transformToByteArray();
      return Buffer.from(bytes ?? new Uint8Array());
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404) return undefined;
      if (status === 416) return Buffer.alloc(0);
      throw this.failure('get', key, err);
    }
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.read(key, 'bytes=0-0')) !== undefined;
  }

  private async call<T>(what: string, key: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      throw this.failure(what, key, err);
    }
  }

  private failure(what: string, key: string, err: unknown): ObjectStoreError {
    const status = httpStatus(err);
    const hint =
      status === 403
        ? ': check lake.s3 credentials and the bucket policy'
        : status === 404
          ? ': does the bucket exist? (check lake.root and lake.s3.endpoint)'
          : '';
    return new ObjectStoreError(`${what} ${this.location}${key} failed (${status ?? (err as Error).name})${hint}`, { cause: err });
  }
}

function httpStatus(err: unknown): number | undefined {
  if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode;
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}
