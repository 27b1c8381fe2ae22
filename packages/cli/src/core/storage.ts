// `--storage s3://bucket/prefix` and `--s3-endpoint URL` (issue 61): the node's storage plug-in from
// @cascade/storage-s3. Its light part only: the S3 client loads once a bucket is in play.

import type { StoragePlugin } from '@cascade/node';
import { UsageError } from './errors.ts';

export interface StorageFlags {
  stateDir: string;
  storage: string | undefined;
  s3Endpoint: string | undefined;
}

/** The plug-in for serve and seed; a malformed --storage is a usage error before the node starts. */
export async function openStorage(o: StorageFlags): Promise<StoragePlugin> {
  const { S3StoragePlugin, S3UrlError } = await import('@cascade/storage-s3/plugin');
  const wanted = o.storage?.trim();
  const disk = wanted !== undefined && /^(disk|file|local)$/i.test(wanted);
  try {
    return await S3StoragePlugin.open({
      stateDir: o.stateDir,
      ...(wanted !== undefined && !disk ? { defaultUrl: wanted } : {}),
      ...(o.s3Endpoint !== undefined ? { endpoint: o.s3Endpoint } : {}),
    });
  } catch (err) {
    if (err instanceof S3UrlError) throw new UsageError(`--storage: ${err.message}`);
    throw err;
  }
}
