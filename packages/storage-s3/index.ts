// @cascade/storage-s3: torrents' data in an S3-compatible bucket (issue 61), behind the engine's
// Storage seam. See docs/storage/s3.md.
export { S3Backend, type S3BackendOptions } from './src/backend.ts';
export { S3Storage, type S3StorageOptions } from './src/s3-storage.ts';
export { ReadCache, type ReadCacheOptions } from './src/read-cache.ts';
export { checkBucket, makeS3Client, s3Error, S3StorageError, type S3ClientOptions } from './src/client.ts';
export { formatS3Url, isS3Url, keyOf, parseS3Url, S3UrlError, type S3Location } from './src/s3-url.ts';
