// What a bare Chromium data channel moves page → page on this machine, with nothing of Cascade's on
// it: the ceiling bench/webrtc/run.ts's figures sit under. Two fresh Chromium instances (as run.ts
// starts them), signalling through this process, one sender pumping `size` bytes per setting:
// message size × channels in parallel × ordered or not, sending up to a high-water mark of buffered
// bytes and resuming at bufferedamountlow. Prints MiB/s and CPU-ms/MiB (both browsers) per setting,
// and the SCTP max-message-size each side negotiated. Run as root (loopback-only namespace).
//   node bench/webrtc/bare.ts [MiB=32] [runs=1] [--sizes 16,64,256] [--channels 1,4]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, serveStatic } from '../../packages/engine/test/browser-bundle.ts';
import { refuseOutsideLoopback, rerunInLoopbackNamespace } from '../scale/netns.ts';
import { loadAverage, median } from '../scale/proc.ts';
import { childrenCpuSeconds, threadCpuSeconds, threadReport } from './cpu.ts';

await rerunInLoopbackNamespace({ envVar: 'CASCADE_BENCH_WEBRTC_NS', prefix: 'cascade-bench-bare', script: import.meta.filename, fallback: 'could not make a network namespace: running in place' });
refuseOutsideLoopback();

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const size = Number(positional[0] ?? 32) * MiB;
const runs = Number(positional[1] ?? 1);
const msgSizes = opt('sizes', '16,64,256').split(',').map((s) => Number(s) * 1024);
const channelCounts = opt('channels', '1,4').split(',').map(Number);
const orders = opt('ordered', 'true').split(',').map((s) => s === 'true');
const high = Number(opt('high', '4')) * MiB;
const threads = args.includes('--threads');

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-bench-bare-'));
await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bare</title>');
const site = await serveStatic(root);

async function page(closers: (() => unknown)[]): Promise<Page> {
  const ctx = await launchChromium({ after: (fn) => void closers.push(fn) });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error('[page error]', e));
  p.on('console', (m) => console.error('[page]', m.text()));
  await p.goto(site.url);
  return p;
}

interface Setting { msg: number; channels: number; ordered: boolean }

/** Connects the two pages (candidates gathered in full, no trickle) with `channels` channels. */
async function connect(a: Page, b: Page, s: Setting): Promise<{ maxA: number; maxB: number }> {
  const offer = await a.evaluate(async (s) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    (window as any).pc = pc;
    (window as any).chans = Array.from({ length: s.channels }, (_, i) => pc.createDataChannel(`c${i}`, { ordered: s.ordered }));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((r) => (pc.iceGatheringState === 'complete' ? r() : pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r())));
    return pc.localDescription!.toJSON();
  }, s);
  const answer = await b.evaluate(async ({ offer, n }) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    (window as any).pc = pc;
    const chans: RTCDataChannel[] = [];
    (window as any).opened = new Promise<void>((r) => {
      pc.ondatachannel = (e) => {
        e.channel.binaryType = 'arraybuffer';
        chans.push(e.channel);
        if (chans.length === n) r();
      };
    });
    (window as any).chans = chans;
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise<void>((r) => (pc.iceGatheringState === 'complete' ? r() : pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r())));
    return pc.localDescription!.toJSON();
  }, { offer, n: s.channels });
  const maxA = await a.evaluate(async (answer) => {
    const pc = (window as any).pc as RTCPeerConnection;
    await pc.setRemoteDescription(answer);
    await Promise.all(((window as any).chans as RTCDataChannel[]).map((c) => new Promise((r) => (c.readyState === 'open' ? r(null) : (c.onopen = r)))));
    return pc.sctp?.maxMessageSize ?? -1;
  }, answer);
  const maxB = await b.evaluate(async () => {
    await (window as any).opened;
    return ((window as any).pc as RTCPeerConnection).sctp?.maxMessageSize ?? -1;
  });
  return { maxA, maxB };
}

async function one(s: Setting): Promise<{ rate: number; cpu: number; maxA: number; maxB: number }> {
  const closers: (() => unknown)[] = [];
  try {
    // One after the other: browser 0 in the thread report is the sender.
    const a = await page(closers);
    const b = await page(closers);
    const { maxA, maxB } = await connect(a, b, s);
    const received = b.evaluate((size) => new Promise<number>((resolve) => {
      let got = 0;
      let first = 0;
      for (const c of (window as any).chans as RTCDataChannel[]) {
        c.onmessage = (e: MessageEvent<ArrayBuffer>) => {
          if (got === 0) first = performance.now();
          got += e.data.byteLength;
          if (got >= size) resolve((got / 1048576) / ((performance.now() - first) / 1000));
        };
      }
    }), size);
    const cpu0 = childrenCpuSeconds();
    const th0 = threads ? threadCpuSeconds() : undefined;
    await a.evaluate(({ size, msg, high }) => {
      const chans = (window as any).chans as RTCDataChannel[];
      const block = new Uint8Array(msg);
      crypto.getRandomValues(block.subarray(0, 65536));
      let sent = 0;
      const per = Math.ceil(size / chans.length);
      for (const c of chans) {
        let mine = 0;
        c.bufferedAmountLowThreshold = high / 4;
        const pump = () => {
          while (mine < per && sent < size && c.bufferedAmount < high) {
            const n = Math.min(msg, per - mine, size - sent);
            c.send(n === msg ? block : block.subarray(0, n));
            mine += n;
            sent += n;
          }
        };
        c.onbufferedamountlow = pump;
        pump();
      }
    }, { size, msg: s.msg, high });
    const rate = await received;
    if (th0) console.log(threadReport(th0, threadCpuSeconds(), size / MiB));
    return { rate, cpu: (childrenCpuSeconds() - cpu0) / (size / MiB), maxA, maxB };
  } finally {
    for (const fn of closers.reverse()) await fn();
  }
}

try {
  console.log(`load average at the start: ${loadAverage()}; bare Chromium data channel page → page, ${size / MiB} MiB per setting, ${runs} run(s), high water ${high / MiB} MiB`);
  const settings: Setting[] = [];
  for (const ordered of orders) for (const channels of channelCounts) for (const msg of msgSizes) settings.push({ msg, channels, ordered });
  const results = new Map<Setting, { rate: number[]; cpu: number[] }>(settings.map((s) => [s, { rate: [], cpu: [] }]));
  for (let r = 0; r < runs; r++) {
    for (const s of r % 2 === 0 ? settings : [...settings].reverse()) {
      const o = await one(s);
      results.get(s)!.rate.push(o.rate);
      results.get(s)!.cpu.push(o.cpu);
      console.log(`  ${String(s.msg / 1024).padStart(4)} KiB × ${s.channels} ch ${s.ordered ? 'ordered  ' : 'unordered'} ${o.rate.toFixed(1).padStart(6)} MiB/s  ${(o.cpu * 1000).toFixed(0).padStart(4)} CPU-ms/MiB  max-message-size ${o.maxA}/${o.maxB}  load ${loadAverage()}`);
    }
  }
  console.log('median:');
  for (const s of settings) {
    const x = results.get(s)!;
    console.log(`  ${String(s.msg / 1024).padStart(4)} KiB × ${s.channels} ch ${s.ordered ? 'ordered  ' : 'unordered'} ${median(x.rate).toFixed(1).padStart(6)} MiB/s  ${(median(x.cpu) * 1000).toFixed(0).padStart(4)} CPU-ms/MiB`);
  }
  console.log(`load average at the end: ${loadAverage()}`);
} finally {
  await site.close();
  await fs.rm(root, { recursive: true, force: true });
}
