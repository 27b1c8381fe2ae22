// What every Node peer driver of the swarm benchmark shares (cascade-peer.ts, wt-peer.ts): the
// JSON-lines protocol of lt_peer.py, CPU and RSS accounting, and the download timeline. A driver
// supplies only how to make its client seed or download (a `Client`).
//
//   <driver> seed <torrent> <savePath>
//     -> {"event":"listening","port"}, {"event":"ready","cpu"} once the data checked complete.
//     Stdin line "usage" -> {"event":"usage",...}; stdin EOF or SIGTERM -> final usage, exit 0.
//   <driver> download <torrent> <savePath> [host:port]... [--wait] [--linger]
//     -> {"event":"listening","port"}, {"event":"added"}, {"event":"done","seconds","t0","tDial","tFirst","t1","cpu"}
//     --wait: add the torrent, print "added", wait for a "start" line on stdin, then dial the
//     peers (t0 = tDial: both clients dial at once). tFirst = first payload byte, t1 = done,
//     seconds = t1 - tDial. --linger: after done, keep seeding until stdin EOF.
//
// At exit: {"event":"usage","final":true,"cpu": user+sys s (all threads),"maxRss": KB}.

import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

type Ev = Record<string, unknown>;

/** One torrent in one client, as the driver sees it. */
export interface Added {
  /** Resolves when every piece is verified (at once if the data checked complete). */
  done: Promise<void>;
  /** Bytes of payload received so far. */
  downloaded(): number;
  uploaded(): number;
  peers(): number;
  addPeer(hostPort: string): void;
  /** Called once, on the first payload byte received. */
  onFirstByte(fn: () => void): void;
  /** A line on where it stands, for error messages. */
  describe(): string;
}

export interface Client {
  /** Starts the client on 127.0.0.1; resolves with its listening port. */
  listen(): Promise<number>;
  /** Adds the torrent with its data in `savePath`; resolves once existing data is checked.
   *  `onError` ends the run (the torrent failed). */
  add(torrent: Uint8Array, savePath: string, onError: (message: string) => void): Promise<Added>;
  close(): Promise<void>;
}

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
    maxRss: process.resourceUsage().maxRSS, ...(final ? { final: true, threads: threadStats().cpu } : {}),
  });
}

/**
 * Per live thread name (main, libuv pool, V8 workers, io_uring workers): CPU seconds, and seconds
 * spent runnable but waiting for a CPU (schedstat). A main thread that waits about as long as it
 * runs is short of CPUs, not of work.
 */
function threadStats(): { cpu: Record<string, number>; wait: Record<string, number> } {
  const cpu: Record<string, number> = {};
  const wait: Record<string, number> = {};
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu[name] = (cpu[name] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
      const sched = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
      wait[name] = (wait[name] ?? 0) + Number(sched[1]) / 1e9;
    }
  } catch {
    // not Linux (or no schedstat): no breakdown
  }
  return { cpu, wait };
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, +(v - (b[k] ?? 0)).toFixed(2)]));
}

export function runDriver(name: string, client: Client): void {
  let exiting = false;
  let listening = false;

  async function finish(code: number): Promise<never> {
    if (!exiting) {
      exiting = true;
      usage(true);
      // Closing is not part of what is measured; don't let a slow close hold the harness up.
      const closing = listening ? client.close().catch(() => {}) : undefined;
      await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    process.exit(code);
  }

  function fail(message: string): Promise<never> {
    emit({ event: 'error', message });
    process.stderr.write(`[${name}] error: ${message}\n`);
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

  async function start(): Promise<void> {
    const port = await client.listen();
    listening = true;
    emit({ event: 'listening', port });
    watchStdin();
  }

  async function seed(torrentPath: string, savePath: string): Promise<void> {
    await start();
    void stdinClosedSignal.promise.then(() => finish(0));
    const t = await client.add(new Uint8Array(readFileSync(torrentPath)), savePath, (m) => void fail(`torrent error: ${m}`));
    const complete = await Promise.race([t.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
    if (!complete) return void fail(`data incomplete after check: ${t.describe()}`);
    onUsageRequest = () => {
      usage();
      emit({ event: 'stats', uploaded: t.uploaded(), peers: t.peers() });
    };
    emit({ event: 'ready', cpu: +cpuSeconds().toFixed(4), maxRss: process.resourceUsage().maxRSS });
  }

  async function download(torrentPath: string, savePath: string, peers: string[], wait: boolean, linger: boolean): Promise<void> {
    await start();
    const t = await client.add(new Uint8Array(readFileSync(torrentPath)), savePath, (m) => void fail(`torrent error: ${m}`));
    let isDone = false;
    void t.done.then(() => (isDone = true));
    emit({ event: 'added' });
    if (wait) {
      await Promise.race([startSignal.promise, stdinClosedSignal.promise]);
      if (stdinClosed) return void finish(1);
    }
    const t0 = Date.now();
    const cpu0 = cpuSeconds();
    const threads0 = threadStats();
    let tFirst: number | undefined;
    t.onFirstByte(() => (tFirst = Date.now()));
    for (const p of peers) t.addPeer(p);
    const progress = setInterval(() => emit({ event: 'progress', downloaded: t.downloaded(), peers: t.peers() }), 1000);
    // MB received per 100 ms, for telling a slow ramp-up or tail from a slow steady state.
    const series: number[] = [];
    let last = 0;
    const sampler = setInterval(() => {
      const d = t.downloaded();
      series.push(+((d - last) / 1e6).toFixed(1));
      last = d;
    }, 100);
    await Promise.race([t.done, stdinClosedSignal.promise]);
    clearInterval(progress);
    clearInterval(sampler);
    if (!isDone) return void fail('stdin closed before the download finished');
    const t1 = Date.now();
    const threads1 = threadStats();
    const [threads, threadWaits] = [minus(threads1.cpu, threads0.cpu), minus(threads1.wait, threads0.wait)];
    emit({ event: 'done', seconds: (t1 - t0) / 1000, t0, tDial: t0, tFirst: tFirst ?? t1, t1, cpu: +(cpuSeconds() - cpu0).toFixed(4), downloaded: t.downloaded(), series, threads, threadWaits });
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
    return void fail(`usage: ${name}.ts seed <torrent> <savePath> | download <torrent> <savePath> [host:port]... [--wait] [--linger]`);
  }

  main().catch((err: unknown) => void fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
}
