// The S3 client as every part of this package makes it, and S3's failures turned into sentences a
// user can act on (they end up as the torrent's error).

import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Location } from './s3-url.ts';

export interface S3ClientOptions {
  /** A custom endpoint (MinIO, R2, Ceph radosgw, s3rver): requests go there path-style. */
  endpoint?: string | undefined;
  /** Else AWS_REGION / the profile's region; with a custom endpoint and none set, us-east-1. */
  region?: string | undefined;
  /** Attempts per request, the SDK's retries (503 SlowDown, 500s, resets) included. Default 4. */
  maxAttempts?: number | undefined;
}

/**
 * Credentials come the standard way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
 * ~/.aws, instance roles): the SDK's default chain, never an option of ours.
 */
export function makeS3Client(o: S3ClientOptions = {}): S3Client {
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (o.endpoint ? 'us-east-1' : undefined);
  return new S3Client({
    ...(region ? { region } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    maxAttempts: o.maxAttempts ?? 4,
    // SDKs since early 2025 add CRC32 checksums to every upload and ask for them on downloads;
    // stores that predate them (s3rver, older Ceph and MinIO) refuse the trailer or answer without
    // one. Only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export class S3StorageError extends Error {
  /** S3's code (NoSuchBucket, SlowDown, InvalidAccessKeyId…) or the network's (ECONNREFUSED). */
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** `err` (from the SDK) as one clear sentence about `what` (e.g. "uploading s3://b/k"). */
export function s3Error(err: unknown, what: string, loc?: S3Location): S3StorageError {
  if (err instanceof S3StorageError) return err;
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code;
  const bucket = loc ? `"${loc.bucket}"` : 'the bucket';
  let text: string;
  switch (code) {
    case 'NoSuchBucket':
      text = `bucket ${bucket} does not exist`;
      break;
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'InvalidToken':
    case 'ExpiredToken':
      text = `the store refused the credentials (${code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile`;
      break;
    case 'AccessDenied':
    case 'Forbidden':
      text = `access to ${bucket} was denied (${code}): the credentials lack permission, or are wrong`;
      break;
    case 'SlowDown':
    case 'ServiceUnavailable':
    case 'RequestLimitExceeded':
    case 'TooManyRequests':
      text = `the store is throttling requests (${status ?? 503} ${code}) and the retries did not get through`;
      break;
    case 'NoSuchKey':
      text = 'the object is missing from the bucket';
      break;
    case 'NoSuchUpload':
      text = 'the multipart upload is gone (aborted or expired)';
      break;
    case 'EntityTooLarge':
    case 'QuotaExceeded':
    case 'XMinioStorageFull':
    case 'InsufficientStorage':
      text = `the store is full or over quota (${code})`;
      break;
    case 'CredentialsProviderError':
      text = 'no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE';
      break;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
      text = `cannot reach the S3 endpoint (${code})`;
      break;
    default:
      // A HEAD has no body, so no code: the status says what happened.
      if (status === 404) text = loc ? `bucket ${bucket} or the object does not exist (404)` : 'not found (404)';
      else if (status === 403) text = `the store refused the credentials, or they lack permission for ${bucket} (403): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile`;
      else if (status === 503) text = `the store is throttling requests (503) and the retries did not get through`;
      else text = `${code ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  }
  return new S3StorageError(`s3: ${what}: ${text}`, code ?? (status ? String(status) : undefined));
}

/** Rejects with a clear S3StorageError unless `loc`'s bucket exists and the credentials reach it. */
export async function checkBucket(client: S3Client, loc: S3Location): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
  } catch (err) {
    const e = err as SdkError;
    // HEAD answers carry no error code; a 404 on a bucket is a missing bucket.
    if (e.$metadata?.httpStatusCode === 404) throw new S3StorageError(`s3: bucket "${loc.bucket}" does not exist`, 'NoSuchBucket');
    throw s3Error(err, `checking bucket "${loc.bucket}"`, loc);
  }
}
