// One Cascade peer in its own process, so the swarm benchmark (run.ts) can measure its CPU and RSS
// apart from the harness. JSON lines on stdout; the same protocol as lt_peer.py.
//
//   cascade-peer.ts seed <torrent> <savePath>
//     -> {"event":"listening","port"}, {"event":"ready","cpu"} once the data checked complete.
//     Stdin line "usage" -> {"event":"usage",...}; stdin EOF or SIGTERM -> final usage, exit 0.
//   cascade-peer.ts download <torrent> <savePath> [host:port]... [--wait] [--linger]
//     -> {"event":"listening","port"}, {"event":"added"}, {"event":"done","seconds","t0","tDial","tFirst","t1","cpu"}
//     --wait: add the torrent, print "added", wait for a "start" line on stdin, then dial the
//     peers (t0 = tDial: Cascade dials at once). tFirst = first payload byte, t1 = done,
//     seconds = t1 - tDial. --linger: after done, keep seeding until stdin EOF.
//
// At exit: {"event":"usage","final":true,"cpu": user+sys s (all threads),"maxRss": KB}.

import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Session } from '../../packages/engine/index.ts';

type Ev = Record<string, unknown>;

function emit(ev: Ev): void {
  process.stdout.write(JSON.stringify(ev) + '\n');
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function usage(final = false): void {
  const u = process.cpuUsage();
  emit({
    event: 'usage', cpu: +cpuSeconds().toFixed(4), user: +(u.user / 1e6).toFixed(3), sys: +(u.system / 1e6).toFixed(3),
    maxRss: process.resourceUsage().maxRSS, ...(final ? { final: true, threads: threadCpu() } : {}),
  });
}

/** CPU seconds per live thread name (main, libuv pool, V8 workers, io_uring workers): where the time went. */
function threadCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = +((out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / 100).toFixed(2);
    }
  } catch {
    // not Linux: no breakdown
  }
  return out;
}

let session: Session | undefined;
let exiting = false;

async function finish(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    usage(true);
    // Closing is not part of what is measured; don't let a slow close hold the harness up.
    const closing = session?.close().catch(() => {});
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  emit({ event: 'error', message });
  process.stderr.write(`[cascade-peer] error: ${message}\n`);
  return finish(1);
}

const startSignal = Promise.withResolvers<void>();
let stdinClosed = false;
const stdinClosedSignal = Promise.withResolvers<void>();
let onUsageRequest: () => void = () => usage();

function watchStdin(): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'start') startSignal.resolve();
    else if (cmd === 'usage') onUsageRequest();
  });
  rl.on('close', () => {
    stdinClosed = true;
    stdinClosedSignal.resolve();
  });
}

async function seed(torrentPath: string, savePath: string): Promise<void> {
  session = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
  emit({ event: 'listening', port: session.port });
  watchStdin();
  void stdinClosedSignal.promise.then(() => finish(0));
  const t = await session.add(new Uint8Array(await readFile(torrentPath)), { savePath });
  t.on('error', (err: Error) => void fail(`torrent error: ${err.message}`));
  if (t.stats().state !== 'seeding') {
    const s = t.stats();
    return void fail(`data incomplete after check: state ${s.state}, ${s.verifiedPieces}/${s.pieceCount} pieces${s.error ? `, ${s.error}` : ''}`);
  }
  onUsageRequest = () => {
    usage();
    const s = t.stats();
    emit({ event: 'stats', uploaded: s.uploaded, peers: s.peers });
  };
  emit({ event: 'ready', cpu: +cpuSeconds().toFixed(4), maxRss: process.resourceUsage().maxRSS });
}

async function download(torrentPath: string, savePath: string, peers: string[], wait: boolean, linger: boolean): Promise<void> {
  session = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
  emit({ event: 'listening', port: session.port });
  watchStdin();
  const t = await session.add(new Uint8Array(await readFile(torrentPath)), { savePath });
  t.on('error', (err: Error) => void fail(`torrent error: ${err.message}`));
  const done = Promise.withResolvers<void>();
  let isDone = false;
  const markDone = () => {
    isDone = true;
    done.resolve();
  };
  t.once('done', markDone);
  if (t.stats().state === 'seeding') markDone();
  emit({ event: 'added' });
  if (wait) {
    await Promise.race([startSignal.promise, stdinClosedSignal.promise]);
    if (stdinClosed) return void finish(1);
  }
  const t0 = Date.now();
  const cpu0 = cpuSeconds();
  let tFirst: number | undefined;
  const onTransfer = (e: { direction: string }) => {
    if (e.direction !== 'down') return;
    tFirst = Date.now();
    t.off('transfer', onTransfer);
  };
  t.on('transfer', onTransfer);
  // Cascade dials as soon as a peer is added: tDial = t0.
  for (const p of peers) t.addPeer(p);
  const progress = setInterval(() => {
    const s = t.stats();
    emit({ event: 'progress', progress: +s.progress.toFixed(4), downloaded: s.downloaded, peers: s.peers, state: s.state });
  }, 1000);
  // MB received per 100 ms, for telling a slow ramp-up or tail from a slow steady state.
  const series: number[] = [];
  let last = 0;
  const sampler = setInterval(() => {
    const d = t.stats().downloaded;
    series.push(+((d - last) / 1e6).toFixed(1));
    last = d;
  }, 100);
  await Promise.race([done.promise, stdinClosedSignal.promise]);
  clearInterval(progress);
  clearInterval(sampler);
  if (!isDone) return void fail('stdin closed before the download finished');
  const t1 = Date.now();
  const s = t.stats();
  emit({ event: 'done', seconds: (t1 - t0) / 1000, t0, tDial: t0, tFirst: tFirst ?? t1, t1, cpu: +(cpuSeconds() - cpu0).toFixed(4), downloaded: s.downloaded, series });
  if (linger && !stdinClosed) await stdinClosedSignal.promise;
  return void finish(0);
}

async function main(): Promise<void> {
  process.on('SIGTERM', () => void finish(0));
  const [cmd, ...rest] = process.argv.slice(2);
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const pos = rest.filter((a) => !a.startsWith('--'));
  if (cmd === 'seed' && pos.length === 2 && flags.size === 0) return seed(pos[0]!, pos[1]!);
  if (cmd === 'download' && pos.length >= 2 && [...flags].every((f) => f === '--wait' || f === '--linger')) {
    return download(pos[0]!, pos[1]!, pos.slice(2), flags.has('--wait'), flags.has('--linger'));
  }
  return void fail('usage: cascade-peer.ts seed <torrent> <savePath> | download <torrent> <savePath> [host:port]... [--wait] [--linger]');
}

main().catch((err: unknown) => void fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
