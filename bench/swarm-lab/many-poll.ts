// The "many" scenario's poller for one `cascade serve` node (many.ts): it runs INSIDE the peer's
// namespace, since the node's API listens on that namespace's 127.0.0.1 only. It adds the torrents
// through the API (multipart .torrent + savePath: on the seed the data is there, so the node checks it
// and seeds), then prints the node's list every --every ms as lt_peer.py prints its rows, so many.ts
// reads both clients alike:
//   {"event":"added","i":k,"infoHash":h}
//   {"event":"progress","torrents":[{"i":k,"progress":p,"state":s,"down":b,"up":b,"peers":n}]}
//   {"event":"error","message":m}
// Its own process (not a child of the node), so its CPU is not counted as the node's.
//
//   node many-poll.ts --url http://127.0.0.1:P --token-file F --save DIR [--every 250] [--no-queue] --torrent T [--torrent T2 …]
// --no-queue: first sets maxActiveDownloads 0 (no limit; the default 5 leaves the others queued).
// --copies (the seed): each row also has `copies`, the torrent's distributedCopies from its detail (the
// list has none), read once a second until it reaches 1 and then kept: what "seed copies" needs.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'token-file': { type: 'string' },
    save: { type: 'string' },
    every: { type: 'string', default: '250' },
    torrent: { type: 'string', multiple: true },
    'no-queue': { type: 'boolean', default: false },
    copies: { type: 'boolean', default: false },
  },
});
const emit = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
// The lab stops reading when it stops the peer: nothing to say then.
process.stdout.on('error', () => process.exit(0));
const url = values.url;
const torrents = values.torrent ?? [];
if (!url || !values['token-file'] || !values.save || torrents.length === 0) {
  emit({ event: 'error', message: 'usage: many-poll.ts --url U --token-file F --save DIR --torrent T…' });
  process.exit(2);
}
const token = (await readFile(values['token-file'], 'utf8')).trim();
const auth = { authorization: `Bearer ${token}` };
let stopping = false;
const stop = () => { stopping = true; };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('error', stop).resume();

if (values['no-queue']) {
  const res = await fetch(`${url}/api/settings`, { method: 'PATCH', body: JSON.stringify({ maxActiveDownloads: 0 }), headers: { ...auth, 'content-type': 'application/json' } });
  if (!res.ok) {
    emit({ event: 'error', message: `settings maxActiveDownloads 0: HTTP ${res.status} ${await res.text()}` });
    process.exit(1);
  }
}

const hashes: string[] = [];
for (const [i, file] of torrents.entries()) {
  const form = new FormData();
  form.append('savePath', values.save);
  form.append('torrent', new Blob([await readFile(file)]), basename(file));
  const res = await fetch(`${url}/api/torrents`, { method: 'POST', body: form, headers: auth, signal: AbortSignal.timeout(30_000) });
  const body = (await res.json().catch(() => ({}))) as { infoHash?: string; message?: string };
  if (!res.ok || !body.infoHash) {
    emit({ event: 'error', message: `add ${basename(file)}: HTTP ${res.status} ${body.message ?? ''}` });
    process.exit(1);
  }
  hashes.push(body.infoHash);
  emit({ event: 'added', i, infoHash: body.infoHash });
}

const every = Number(values.every);
const copies: number[] = hashes.map(() => 0);
let copiesAt = 0;
while (!stopping) {
  const t = Date.now();
  try {
    if (values.copies && t - copiesAt >= 1000 && copies.some((c) => c < 1)) {
      copiesAt = t;
      for (const [i, h] of hashes.entries()) {
        if (copies[i]! >= 1) continue;
        const d = await fetch(`${url}/api/torrents/${h}`, { headers: auth, signal: AbortSignal.timeout(10_000) });
        copies[i] = Number(((await d.json()) as { distributedCopies?: number | null }).distributedCopies ?? 0);
      }
    }
    const res = await fetch(`${url}/api/torrents?limit=100000`, { headers: auth, signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { torrents: { infoHash: string; progress: number | null; state: string; downloaded: number; uploaded: number; peers: number }[] };
    const byHash = new Map(body.torrents.map((r) => [r.infoHash, r]));
    emit({
      event: 'progress',
      torrents: hashes.map((h, i) => {
        const r = byHash.get(h);
        return { i, progress: r?.progress ?? 0, state: r?.state ?? 'missing', down: r?.downloaded ?? 0, up: r?.uploaded ?? 0, peers: r?.peers ?? 0, ...(values.copies ? { copies: copies[i] } : {}) };
      }),
    });
  } catch (err) {
    // A slow answer on a loaded machine is not fatal: the next poll tries again.
    emit({ event: 'error', message: `poll: ${(err as Error).message}`, transient: true });
  }
  await new Promise((r) => setTimeout(r, Math.max(0, every - (Date.now() - t))));
}
process.exit(0);
