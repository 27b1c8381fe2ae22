// A real S3 server for tests (s3rver on 127.0.0.1, port 0, a temp folder), credentials the
// standard way (the environment), and a tiny HTTP proxy in front of it that answers 503 SlowDown
// when told to (s3rver cannot throttle).
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { makeS3Client } from '../index.ts';
// s3rver is CommonJS without types.
// @ts-expect-error no declaration file
import S3rver from 's3rver';

export async function tmpDir(t: { after: (fn: () => unknown) => void }, prefix = 'cascade-s3-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** s3rver's one account; what AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY carry in these tests. */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
}

export async function startS3rver(t: { after: (fn: () => unknown) => void }, buckets: string[]): Promise<{ endpoint: string; directory: string }> {
  const directory = await tmpDir(t, 'cascade-s3rver-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const addr = (await server.run()) as AddressInfo;
  t.after(() => server.close());
  return { endpoint: `http://127.0.0.1:${addr.port}`, directory };
}

/** A proxy to `target` that answers 503 SlowDown while `throttle(req)` says so; counts both. */
export async function throttlingProxy(t: { after: (fn: () => unknown) => void }, target: string): Promise<{ endpoint: string; throttle: (fn: (n: number, method: string, url: string) => boolean) => void; counts: { passed: number; refused: number } }> {
  const to = new URL(target);
  let rule: (n: number, method: string, url: string) => boolean = () => false;
  const counts = { passed: 0, refused: 0 };
  let n = 0;
  const server = http.createServer((req, res) => {
    if (rule(n++, req.method ?? 'GET', req.url ?? '/')) {
      counts.refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    counts.passed++;
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, throttle: (fn) => (rule = fn), counts };
}

/** Keys and sizes under `prefix` in `bucket` (other packages' tests read the bucket through this). */
export async function objectSizes(endpoint: string, bucket: string, prefix = ''): Promise<Map<string, number>> {
  const client = makeS3Client({ endpoint });
  try {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return new Map((r.Contents ?? []).map((c) => [c.Key!, c.Size ?? 0]));
  } finally {
    client.destroy();
  }
}

/** Deletes one object behind the node's back (a bucket losing data under a torrent). */
export async function deleteObject(endpoint: string, bucket: string, key: string): Promise<void> {
  const client = makeS3Client({ endpoint });
  try {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } finally {
    client.destroy();
  }
}
