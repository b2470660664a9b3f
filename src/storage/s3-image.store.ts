import {
  DeleteObjectCommand,
  S3ClientConfig,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { S3Settings } from '../config/config.types';
import { contentTypeOf, ImageStore, imageObjectKey, StoredImage, StoredImageRef } from './image-store';

/** Every object Argus writes sits under this prefix, so the bucket may hold other things too. */
export const S3_KEY_PREFIX = 'images/';
/** The SDK's retry (3 attempts, backoff on throttling and 5xx) is the only retry layer for S3. */
const MAX_ATTEMPTS = 3;
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Stored images never change (one key per sha256): caches may keep them. */
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

/** The client options for the configured bucket; exported for the key/parameter unit tests. */
export function s3ClientConfig(settings: S3Settings): S3ClientConfig {
  return {
    region: settings.region ?? 'us-east-1',
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    // S3-compatible stores (MinIO, R2, Ceph) do not all accept the SDK's default CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * Images as objects in one bucket (`STORAGE_DRIVER=s3`): AWS S3, or any S3-compatible store via
 * `S3_ENDPOINT` (+ `S3_FORCE_PATH_STYLE=true` for MinIO). Keys: `images/ab/cd/<sha256>.<ext>`.
 * Credentials come from S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY or, when unset, the SDK's default
 * chain (instance role, IRSA, environment).
 */
export class S3ImageStore implements ImageStore {
  readonly driver = 's3';
  private readonly logger = new Logger(S3ImageStore.name);

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  static fromSettings(settings: S3Settings): S3ImageStore {
    if (!settings.bucket) throw new Error('S3ImageStore: S3_BUCKET is required');
    return new S3ImageStore(new S3Client(s3ClientConfig(settings)), settings.bucket);
  }

  async put(ref: StoredImageRef, data: Buffer): Promise<boolean> {
    if (await this.exists(ref)) return false;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(ref),
        Body: data,
        ContentLength: data.length,
        ContentType: contentTypeOf(ref.format),
        CacheControl: CACHE_CONTROL,
      }),
    );
    this.logger.debug({ msg: 'image stored', driver: this.driver, sha256: ref.sha256, bytes: data.length });
    return true;
  }

  async get(ref: StoredImageRef): Promise<StoredImage | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) }));
      if (!(object.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
      return { stream: object.Body, contentType: contentTypeOf(ref.format), size: object.ContentLength };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async exists(ref: StoredImageRef): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(ref: StoredImageRef): Promise<void> {
    // S3 answers 204 for a missing key too: deleting is idempotent by itself.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) }));
    this.logger.debug({ msg: 'image deleted', driver: this.driver, sha256: ref.sha256 });
  }

  destroy(): void {
    this.client.destroy();
  }

  private keyOf(ref: StoredImageRef): string {
    return `${S3_KEY_PREFIX}${imageObjectKey(ref)}`;
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404;
}
