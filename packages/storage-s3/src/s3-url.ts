// `s3://bucket/prefix` as the CLI and the API take it: the bucket (S3's naming rules, so a typo is
// refused here, not as a puzzling 400 from the store) and a key prefix that plays the part of a
// save path: a torrent's files land at <prefix>/<name>/<path>, as on disk at <dir>/<name>/<path>.

export class S3UrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'S3UrlError';
  }
}

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when `text` is meant as an S3 location (then parseS3Url says whether it is a good one). */
export function isS3Url(text: string): boolean {
  return /^s3:/i.test(text.trim());
}

export function parseS3Url(text: string): S3Location {
  const shown = JSON.stringify(text);
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(text.trim());
  if (!m) throw new S3UrlError(`${shown} is not an S3 location: write s3://bucket/prefix`);
  const bucket = m[1]!;
  if (!bucket) throw new S3UrlError(`${shown} names no bucket: write s3://bucket/prefix`);
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new S3UrlError(`${shown}: "${bucket}" is not a valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`);
  }
  const parts = (m[2] ?? '').split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '.' || p === '..') throw new S3UrlError(`${shown}: the prefix may not contain "." or ".." segments`);
  }
  return { bucket, prefix: parts.join('/') };
}

export function formatS3Url(loc: S3Location): string {
  return `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}`;
}

/** `loc`'s key for `rest` (a torrent's name and path components, already cleaned by the metainfo parser). */
export function keyOf(loc: S3Location, rest: readonly string[]): string {
  return [...(loc.prefix ? [loc.prefix] : []), ...rest].join('/');
}
