// Heap by constructor for N idle seeded torrents (a diagnostic beside run.ts): which objects the
// per-torrent bytes are. `node --expose-gc bench/engine-idle/heap-classes.ts --torrents 2000 [--local]`
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Session, createTorrent, type ResumeData, type ResumeStore } from '../../packages/engine/index.ts';

const { values } = parseArgs({ options: { torrents: { type: 'string', default: '2000' }, local: { type: 'boolean' } } });
const N = Number(values.torrents);
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-heap-'));
const resume = new Map<string, ResumeData>();
const store: ResumeStore = { load: async (h) => resume.get(h), save: async (h, d) => void resume.set(h, d), delete: async (h) => void resume.delete(h) };
const torrents: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const file = path.join(root, `t${i}.bin`);
  await fs.writeFile(file, randomBytes(4096));
  const { torrent, metainfo } = await createTorrent(file, { pieceLength: 16384 });
  const st = await fs.stat(file);
  resume.set(metainfo.infoHashHex, { have: Uint8Array.of(0x80), infoBytes: metainfo.infoBytes, files: [{ length: st.size, mtimeMs: Math.floor(st.mtimeMs) }] });
  torrents.push(torrent);
}
const urls = ['http://127.0.0.1:9/announce', 'udp://127.0.0.1:9/announce'];
const localTracker = values.local ? { urls, announce: () => ({ interval: 1800, peers: [] }) } : undefined;
const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store, trackers: values.local ? urls : [], localTracker });
for (const t of torrents) await session.add(t, { savePath: root });
await new Promise((r) => setTimeout(r, 2000));
(globalThis as { gc?: () => void }).gc?.();
const snap = JSON.parse(await streamText(v8.getHeapSnapshot())) as { snapshot: { meta: { node_fields: string[]; node_types: string[][] } }; nodes: number[]; strings: string[] };
const f = snap.snapshot.meta.node_fields;
const W = f.length, T = f.indexOf('type'), NM = f.indexOf('name'), SZ = f.indexOf('self_size');
const types = snap.snapshot.meta.node_types[0]!;
const by = new Map<string, { n: number; b: number }>();
for (let i = 0; i < snap.nodes.length; i += W) {
  const key = `${types[snap.nodes[i + T]!]}:${snap.strings[snap.nodes[i + NM]!]!.slice(0, 60)}`;
  const e = by.get(key) ?? { n: 0, b: 0 };
  e.n++;
  e.b += snap.nodes[i + SZ]!;
  by.set(key, e);
}
for (const [k, e] of [...by].sort((a, b) => b[1].b - a[1].b).slice(0, 40)) console.log(`${(e.b / N).toFixed(0).padStart(6)} B/t ${(e.n / N).toFixed(2).padStart(6)}/t  ${k}`);
await session.close();
await fs.rm(root, { recursive: true, force: true });

async function streamText(r: NodeJS.ReadableStream): Promise<string> {
  const chunks: string[] = [];
  for await (const c of r) chunks.push(String(c));
  return chunks.join('');
}
