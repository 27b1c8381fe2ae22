// A throwaway single-host Ceph cluster with radosgw in front, on 127.0.0.1, for checking Cascade's
// S3 storage against a real S3 server other than s3rver (issue 61). Debian 12's Ceph 16 (Pacific):
// radosgw stores only in RADOS (the standalone dbstore back end came with 17), so this makes one
// monitor (cephx, one-replica pools allowed), one OSD on memstore (RAM, no disk), then radosgw
// (beast on a port of its own) and an S3 user. No manager: pools and placement groups come up
// without one. Everything lives in a temp dir, and stop() kills what it started.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Radosgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Seconds from nothing to an S3 user that can make buckets. */
  startSeconds: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`radosgw: timed out waiting for ${what}${last ? `: ${String(last).slice(0, 500)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startRadosgw(opts: { timeoutMs?: number } = {}): Promise<Radosgw> {
  const t0 = Date.now();
  const timeout = opts.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'cascade-ceph-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    const conf = join(dir, 'ceph.conf');
    for (const d of ['mon', 'osd0', 'run', 'rgw']) mkdirSync(join(dir, d));
    writeFileSync(conf, [
      '[global]',
      `fsid = ${fsid}`,
      `mon host = v2:127.0.0.1:${monPort}`,
      'public addr = 127.0.0.1',
      `keyring = ${join(dir, 'keyring')}`,
      'auth allow insecure global id reclaim = false',
      'osd pool default size = 1',
      'osd pool default min size = 1',
      'osd pool default pg num = 8',
      'osd pool default pgp num = 8',
      'osd pool default pg autoscale mode = off',
      'mon allow pool size one = true',
      'mon max pg per osd = 1000',
      'mon warn on pool no redundancy = false',
      'osd crush chooseleaf type = 0',
      `run dir = ${join(dir, 'run')}`,
      `admin socket = ${join(dir, 'run', '$name.asok')}`,
      `log file = ${join(dir, '$name.log')}`,
      'ms bind ipv6 = false',
      '[mon]',
      `mon data = ${join(dir, 'mon')}`,
      '[osd]',
      'osd objectstore = memstore',
      'memstore device bytes = 2147483648',
      `osd data = ${join(dir, 'osd$id')}`,
      'osd max object name len = 460',
      'osd max object namespace len = 64',
      '[client.rgw]',
      `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`,
      `rgw data = ${join(dir, 'rgw')}`,
      'rgw dns name = 127.0.0.1',
      '',
    ].join('\n'));
    const c = ['-c', conf];
    // cephx, with every entity's key in one keyring the monitor imports at mkfs: radosgw 16 does not
    // get past a monitor with auth off (its first auth request fails, -13, and it hunts forever).
    const keyring = join(dir, 'keyring');
    await run('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'client.rgw', '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'osd.0', '--cap', 'mon', 'allow profile osd', '--cap', 'osd', 'allow *']);
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', keyring]);
    const daemon = (cmd: string, args: string[]) => {
      const child = spawn(cmd, [...c, '-f', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
      child.once('exit', (code) => { if (code) process.stderr.write(`${cmd} exited ${code}: ${err}\n`); });
      children.push(child);
      return child;
    };
    daemon('ceph-mon', ['-i', 'a']);
    const ceph = async (...args: string[]) => (await run('ceph', [...c, '--connect-timeout', '10', ...args], { timeout: 30_000 })).stdout;
    await until('the monitor', async () => ((await ceph('mon', 'stat')).includes('a') ? true : undefined), timeout);
    const osdUuid = randomUUID();
    const id = (await ceph('osd', 'new', osdUuid)).trim();
    await run('ceph-osd', [...c, '-i', id, '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', id]);
    await until('the OSD up', async () => (/1 up/.test(await ceph('osd', 'stat')) ? true : undefined), timeout);
    daemon('radosgw', ['-n', 'client.rgw']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    // radosgw answers once it has made its pools (their placement groups active on the one OSD).
    await until('radosgw to answer', async () => ((await fetch(endpoint)).status < 500 ? true : undefined), timeout);
    const accessKeyId = 'CASCADERADOSGW0000001';
    const secretAccessKey = 'cascade-radosgw-secret-key-0000000000000';
    await run('radosgw-admin', [...c, 'user', 'create', '--uid', 'cascade', '--display-name', 'Cascade check', '--access-key', accessKeyId, '--secret-key', secretAccessKey], { timeout: 30_000 });
    return { endpoint, accessKeyId, secretAccessKey, startSeconds: (Date.now() - t0) / 1000, stop };
  } catch (err) {
    // What the daemons said last: the reason is in their logs, not in a timeout.
    const logs = ['client.rgw', 'osd.0', 'mon.a'].map((n) => { try { return `--- ${n}.log\n${readFileSync(join(dir, `${n}.log`), 'utf8').split('\n').filter((l) => !/send_auth_request/.test(l)).slice(0, 40).join('\n')}`; } catch { return ''; } });
    await stop();
    throw new Error(`${(err as Error).message}\n${logs.join('\n')}`);
  }
}
