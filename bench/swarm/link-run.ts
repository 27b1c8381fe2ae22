// `bench:swarm --link "rtt=50ms,loss=1%,rate=100mbit"` (issue 43, "the link is shared fairly"):
// through the link emulator (bench/link), Cascade over uTP beside libtorrent over uTP, and each of
// them against a bulk TCP flow on the same link: does LEDBAT yield to TCP, and as much as
// libtorrent's does? Seeders and the TCP source sit in namespace A, downloaders and the TCP sink in
// B, so the payload and the TCP flow share A→B's rate cap and buffer.
//
// Per pair and run, three phases on the same link, each measured over `window` seconds after a
// warm-up: TCP alone; the uTP transfer alone; then, with that transfer still running, the TCP flow
// started beside it (a background download, then the user's upload: LEDBAT's case). Printed: the
// rates, and the ratios TCP beside uTP / TCP alone ("TCP keeps") and uTP beside TCP / uTP alone.
// Every peer is uTP only: libtorrent with TCP off, Cascade with uTP first and TCP connections to
// the peers' ports refused by the namespaces' firewalls (so a slow SYN-ACK cannot fall back to TCP).

import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createTorrent } from '../../packages/engine/index.ts';
import { createLink, describeLink, type Link, type LinkSpec } from '../link/link.ts';

const HERE = import.meta.dirname;
const FLOW = resolve(HERE, '../link/flow.ts');
const CASCADE_PEER = join(HERE, 'cascade-peer.ts');
const LT_PEER = join(HERE, 'lt_peer.py');
const PYTHON = '/usr/bin/python3';
const MB = 1e6;

export interface LinkRunOptions {
  spec: LinkSpec;
  specText: string;
  pairs: string[];
  runs: number;
  /** Seconds each phase is measured over. */
  window: number;
  size: number;
  pieceLength: number;
  dir: string;
  keep: boolean;
  outDir: string;
  /** Print each run's per-second rates. */
  verbose: boolean;
}

type Ev = Record<string, any>;
type Impl = 'lt' | 'cascade';

/** A process in the link's namespaces speaking JSON lines; each line is timestamped on arrival. */
class Proc {
  readonly events: (Ev & { at: number })[] = [];
  readonly child: ChildProcess;
  private stderr = '';
  private wake: (() => void)[] = [];
  readonly name: string;
  constructor(name: string, link: Link, side: 'a' | 'b', cmd: string, args: string[], env: Record<string, string> = {}) {
    this.name = name;
    this.child = link.spawn(side, cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdin!.on('error', () => {});
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      if (!l.startsWith('{')) return;
      this.events.push({ ...(JSON.parse(l) as Ev), at: Date.now() });
      for (const w of this.wake.splice(0)) w();
    });
    this.child.on('exit', () => {
      for (const w of this.wake.splice(0)) w();
    });
  }
  async waitFor(pred: (e: Ev) => boolean, ms: number): Promise<Ev> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      const err = this.events.find((x) => x.event === 'error');
      if (err) throw new Error(`${this.name}: ${err.message}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > end) {
        throw new Error(`${this.name}: ${this.child.exitCode !== null ? `exited ${this.child.exitCode}` : 'timed out'}: ${this.stderr.trim().split('\n').slice(-4).join(' / ')}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(500, end - Date.now()));
        this.wake.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  send(line: string): void {
    if (this.child.exitCode === null) this.child.stdin!.write(line + '\n');
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** Bytes per second of a counter between two moments, from its timestamped samples. */
function rateBetween(samples: { at: number; bytes: number }[], from: number, to: number): number {
  const before = samples.filter((s) => s.at <= from).at(-1) ?? { at: from, bytes: 0 };
  const last = samples.filter((s) => s.at <= to).at(-1);
  if (!last || last.at <= before.at) return 0;
  return (last.bytes - before.bytes) / ((last.at - before.at) / 1000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writeRandom(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  const buf = Buffer.allocUnsafe(16 << 20);
  for (let off = 0; off < size; off += buf.length) {
    randomFillSync(buf);
    await fh.write(buf, 0, Math.min(buf.length, size - off), off);
  }
  await fh.close();
}

/** Refuse TCP connections to a namespace, but for `allowPort`: uTP peers cannot fall back to TCP. */
function refuseTcp(ns: string, allowPort?: number): void {
  const rule = ['-A', 'INPUT', '-p', 'tcp', '--syn', ...(allowPort ? ['!', '--dport', String(allowPort)] : []), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  const r = spawnSync('ip', ['netns', 'exec', ns, 'iptables', ...rule], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iptables in ${ns}: ${r.stderr.trim()}`);
}

interface PairRun {
  pair: string;
  run: number;
  tcpAlone: number;
  utpAlone: number;
  tcpBeside: number;
  utpBeside: number;
  /** TCP over the last quarter of the window beside uTP. */
  tcpLate: number;
  yieldS: number;
  load: number;
  lost: number;
  overflow: number;
  /** MB/s per second of TCP and of uTP, from the TCP flow's start beside the transfer. */
  series: { tcp: number[]; utp: number[] };
}

function perSecond(samples: { at: number; bytes: number }[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t + 1000 <= to; t += 1000) out.push(+(rateBetween(samples, t, t + 1000) / MB).toFixed(2));
  return out;
}

export async function linkRun(o: LinkRunOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('--link needs root: the link emulator makes network namespaces and TUN devices');
    return 2;
  }
  await mkdir(o.dir, { recursive: true });
  const tmp = await mkdtemp(join(o.dir, 'cascade-swarm-link-'));
  const link = await createLink(o.spec);
  const results: PairRun[] = [];
  let failures = 0;
  try {
    const seedDir = join(tmp, 'seed');
    await mkdir(seedDir);
    const file = join(seedDir, 'payload.bin');
    await writeRandom(file, o.size);
    const { torrent } = await createTorrent(file, { pieceLength: o.pieceLength, createdBy: 'cascade swarm bench' });
    const torrentPath = join(tmp, 'payload.torrent');
    await writeFile(torrentPath, torrent);

    const sink = new Proc('tcp sink', link, 'b', process.execPath, [FLOW, 'tcp-sink', link.addrB]);
    const sinkPort = (await sink.waitFor((e) => e.port !== undefined, 10_000)).port as number;
    refuseTcp(link.nsA);
    refuseTcp(link.nsB, sinkPort);
    const tcpSamples = () => sink.events.filter((e) => e.bytes !== undefined).map((e) => ({ at: e.t as number, bytes: e.bytes as number }));
    const tcpFlow = () => new Proc('tcp source', link, 'a', process.execPath, [FLOW, 'tcp-source', `${link.addrB}:${sinkPort}`]);

    console.log(`link: ${describeLink(o.spec)} ("${o.specText}"), each way; A→B carries the payload and the TCP flow (${link.tcp})`);
    console.log(`phases of ${o.window} s: TCP alone, uTP alone, then TCP started beside the running uTP transfer; ${o.runs} run(s), ${o.pairs.join(', ')}, uTP only\n`);
    const W = o.window * 1000;
    // Alone, each flow settles within seconds; beside each other, LEDBAT's yielding takes longer.
    const A = Math.min(W, 10_000);
    for (let run = 1; run <= o.runs; run++) {
      for (const pair of o.pairs) {
        const [seedImpl, dlImpl] = pair.split('-') as [Impl, Impl];
        const procs: Proc[] = [];
        const dlDir = await mkdtemp(join(tmp, 'dl-'));
        let sampler: NodeJS.Timeout | undefined;
        try {
          const before = await link.stats();
          const rcvbufBefore = o.verbose ? [udpRcvbufErrors(link.nsA), udpRcvbufErrors(link.nsB)] : [];
          // 1. TCP alone: 2 s of slow start and buffer filling, then the window.
          let src = tcpFlow();
          procs.push(src);
          await sleep(2000);
          let t0 = Date.now();
          await sleep(A);
          const tcpAlone = rateBetween(tcpSamples(), t0, Date.now());
          await src.stop();
          src.child.kill('SIGKILL');
          await sleep(1500); // the buffer drains
          // 2. The uTP transfer alone: 3 s to find its pace, then the window.
          const peer = (impl: Impl, name: string, side: 'a' | 'b', args: string[]) =>
            impl === 'lt'
              ? new Proc(name, link, side, PYTHON, [LT_PEER, ...args], { LT_PEER_HOST: side === 'a' ? link.addrA : link.addrB, LT_PEER_UTP: 'only', ...(o.verbose ? { LT_PEER_UTP_TRACE: '1' } : {}) })
              : new Proc(name, link, side, process.execPath, [CASCADE_PEER, ...args], { CASCADE_PEER_HOST: side === 'a' ? link.addrA : link.addrB, CASCADE_PEER_UTP: 'first', ...(o.verbose ? { CASCADE_PEER_UTP_TRACE: '1' } : {}) });
          const seeder = peer(seedImpl, `${seedImpl} seeder`, 'a', ['seed', torrentPath, seedDir]);
          procs.push(seeder);
          const seedPort = (await seeder.waitFor((e) => e.event === 'listening', 30_000)).port as number;
          await seeder.waitFor((e) => e.event === 'ready', 120_000);
          const dl = peer(dlImpl, `${dlImpl} downloader`, 'b', ['download', torrentPath, dlDir, `${link.addrA}:${seedPort}`, '--wait']);
          procs.push(dl);
          await dl.waitFor((e) => e.event === 'added', 60_000);
          dl.send('start');
          await dl.waitFor((e) => e.event === 'progress' && e.downloaded > 0, 30_000);
          const utpSamples = () => dl.events.filter((e) => e.event === 'progress' || e.event === 'done').map((e) => ({ at: e.at, bytes: e.downloaded as number }));
          // --verbose: the A→B buffer's wait twice a second (what the senders' queue amounts to).
          const queue: { at: number; ms: number }[] = [];
          sampler = o.verbose ? setInterval(() => void link.stats().then((s) => queue.push({ at: Date.now(), ms: s.ab.queueMs })), 500) : undefined;
          await sleep(3000);
          t0 = Date.now();
          const tAlone = t0;
          await sleep(A);
          const utpAlone = rateBetween(utpSamples(), t0, Date.now());
          // 3. The user's TCP flow starts beside the running transfer.
          src = tcpFlow();
          procs.push(src);
          const tStart = Date.now();
          await sleep(2000);
          t0 = Date.now();
          await sleep(W);
          const t1 = Date.now();
          const tcpBeside = rateBetween(tcpSamples(), t0, t1);
          const utpBeside = rateBetween(utpSamples(), t0, t1);
          const tcpLate = rateBetween(tcpSamples(), t1 - W / 4, t1);
          // Seconds from TCP's start until uTP's rate over 3 s falls under a quarter of its rate alone
          // and stays there to the end (progress comes once a second, and a stalled second is no yield).
          let yieldS = NaN;
          for (let t = t1 - 3000; t >= tStart && rateBetween(utpSamples(), t, t + 3000) < utpAlone / 4; t -= 500) yieldS = (t + 3000 - tStart) / 1000;
          if (dl.events.some((e) => e.event === 'done' && e.at < t1)) throw new Error(`the payload was all downloaded before the last phase ended: use a larger --size`);
          clearInterval(sampler);
          const after = await link.stats();
          const r: PairRun = {
            pair, run, tcpAlone, utpAlone, tcpBeside, utpBeside, tcpLate, yieldS, load: +loadavg()[0]!.toFixed(2),
            lost: after.ab.lost - before.ab.lost, overflow: after.ab.overflow - before.ab.overflow,
            series: { tcp: perSecond(tcpSamples(), tStart, t1), utp: perSecond(utpSamples(), tStart, t1) },
          };
          results.push(r);
          console.log(
            `  ${pair.replace('-', '→').padEnd(16)} run ${run}  TCP alone ${f(tcpAlone / MB)} MB/s, uTP alone ${f(utpAlone / MB)}; together: TCP ${f(tcpBeside / MB)}, uTP ${f(utpBeside / MB)}` +
              `  (TCP keeps ${f(tcpBeside / tcpAlone, 2)}×, ${f(tcpLate / tcpAlone, 2)}× in the last quarter; uTP yielded in ${f(yieldS)} s; A→B drops: ${r.lost} lost, ${r.overflow} overflow; load ${r.load})`,
          );
          if (o.verbose) {
            console.log(`      per second from TCP's start: TCP ${r.series.tcp.join(' ')}\n                                   uTP ${r.series.utp.join(' ')}`);
            verboseTrace({ seeder, dl, queue, tAlone, tStart, t1 });
            console.log(`      UDP datagrams dropped for a full socket buffer: seeder's side ${udpRcvbufErrors(link.nsA) - rcvbufBefore[0]!}, downloader's ${udpRcvbufErrors(link.nsB) - rcvbufBefore[1]!}`);
          }
        } catch (err) {
          failures++;
          console.log(`  ${pair.replace('-', '→').padEnd(16)} run ${run}  FAILED: ${(err as Error).message}`);
        } finally {
          clearInterval(sampler);
          for (const p of procs) p.child.kill('SIGKILL');
          await rm(dlDir, { recursive: true, force: true });
          await sleep(1500);
        }
      }
    }
    await sink.stop();
  } finally {
    await link.close();
    if (!o.keep) await rm(tmp, { recursive: true, force: true });
  }
  await report(o, results);
  return failures > 0 ? 1 : 0;
}

/** UDP datagrams the namespace's sockets dropped for a full receive buffer (/proc/net/snmp). */
function udpRcvbufErrors(ns: string): number {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return NaN;
  const head = lines[0]!.split(/\s+/), vals = lines[1]!.split(/\s+/);
  return Number(vals[head.indexOf('RcvbufErrors')]);
}

/** --verbose, from the uTP transfer alone to the end: the A→B buffer's wait, and per second what
 *  each end's uTP counters did (losses and timeouts the sender saw, the receiver's window and ACKs). */
function verboseTrace(r: { seeder: Proc; dl: Proc; queue: { at: number; ms: number }[]; tAlone: number; tStart: number; t1: number }): void {
  const { tAlone, tStart, t1 } = r;
  const qs = (from: number, to: number) => r.queue.filter((q) => q.at >= from && q.at < to).map((q) => Math.round(q.ms)).join(' ');
  console.log(`      A→B buffer wait ms, uTP alone: ${qs(tAlone, tStart)}\n                          beside TCP: ${qs(tStart, t1)}`);
  // One sample a second, each against the one before; ' | ' marks TCP's start.
  const perSecond = (p: Proc, kind: string, fmt: (e: Ev, prev: Ev) => string) => {
    const evs = p.events.filter((e) => e.event === kind && e.t >= tAlone - 1000 && e.t <= t1);
    const out: string[] = [];
    let prev: Ev | undefined;
    let marked = false;
    for (const e of evs) {
      if (prev && e.t - prev.t < 950) continue;
      if (prev) {
        if (!marked && e.t >= tStart) (out.push('|'), (marked = true));
        out.push(fmt(e, prev));
      }
      prev = e;
    }
    return out.join(' ');
  };
  const cascadeSender = (e: Ev, p: Ev) => {
    const c = e.conns[0], b = p.conns[0] ?? c;
    return `${Math.round(c.cwnd / 1000)}/${Math.round(c.flight / 1000)}/${Math.round(c.peerWindow / 1000)}@${c.delayMs}${c.fastResends > b.fastResends ? `L${c.fastResends - b.fastResends}` : ''}${c.timeouts > b.timeouts ? `T${c.timeouts - b.timeouts}` : ''}`;
  };
  const ltSender = (e: Ev, p: Ev) => {
    const d = (k: string) => e[k] - p[k];
    const above = d('utp_samples_above_target'), below = d('utp_samples_below_target');
    return `${Math.round((100 * above) / Math.max(1, above + below))}%${d('utp_packet_loss') ? `L${d('utp_packet_loss')}` : ''}${d('utp_fast_retransmit') ? `F${d('utp_fast_retransmit')}` : ''}${d('utp_timeout') ? `T${d('utp_timeout')}` : ''}`;
  };
  const cascadeReceiver = (e: Ev, p: Ev) => {
    const c = e.conns[0], b = p.conns[0] ?? c;
    return `${Math.round(c.window / 1000)}@${c.rxDelayMs}/${((c.statesOut - b.statesOut) / Math.max(1, c.packetsIn - b.packetsIn)).toFixed(2)}`;
  };
  const ltReceiver = (e: Ev, p: Ev) => ((e.utp_packets_out - p.utp_packets_out) / Math.max(1, e.utp_payload_pkts_in - p.utp_payload_pkts_in)).toFixed(2);
  const s = perSecond(r.seeder, 'utp', cascadeSender) || perSecond(r.seeder, 'ltutp', ltSender);
  if (s) console.log(`      sender per second (Cascade: cwnd/flight/peer window KB @ delay ms; libtorrent: % of delay samples above target; L losses, F fast resends, T timeouts):\n        ${s}`);
  const d = perSecond(r.dl, 'utp', cascadeReceiver) || perSecond(r.dl, 'ltutp', ltReceiver);
  if (d) console.log(`      receiver per second (Cascade: advertised window KB @ queuing delay ms it sees/STATEs per packet in; libtorrent: packets out per data packet in):\n        ${d}`);
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function report(o: LinkRunOptions, results: PairRun[]): Promise<void> {
  const rows = o.pairs.map((pair) => {
    const rs = results.filter((r) => r.pair === pair);
    const m = (k: keyof PairRun) => median(rs.map((r) => r[k] as number));
    return {
      pair, runs: rs.length,
      tcpAlone: m('tcpAlone'), utpAlone: m('utpAlone'), tcpBeside: m('tcpBeside'), utpBeside: m('utpBeside'),
      tcpKeeps: median(rs.map((r) => r.tcpBeside / r.tcpAlone)),
      utpKeeps: median(rs.map((r) => r.utpBeside / r.utpAlone)),
      tcpLateKeeps: median(rs.map((r) => r.tcpLate / r.tcpAlone)),
      yieldS: median(rs.map((r) => (Number.isNaN(r.yieldS) ? Infinity : r.yieldS))),
    };
  });
  const head = ['pair (uTP)', 'runs', 'uTP alone MB/s', 'TCP alone MB/s', 'TCP beside uTP', 'uTP beside TCP', 'TCP keeps', 'uTP keeps', 'TCP keeps, last ¼', 'uTP yields in s'];
  const body = rows.map((r) => [
    r.pair.replace('-', '→'), String(r.runs), f(r.utpAlone / MB), f(r.tcpAlone / MB), f(r.tcpBeside / MB), f(r.utpBeside / MB),
    `${f(r.tcpKeeps, 2)}×`, `${f(r.utpKeeps, 2)}×`, `${f(r.tcpLateKeeps, 2)}×`, r.yieldS === Infinity ? `> ${o.window}` : f(r.yieldS),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  console.log(`\n${describeLink(o.spec)}; medians of ${o.runs} run(s); alone: ${Math.min(o.window, 10)} s windows, beside: ${o.window} s from 2 s after TCP's start;`);
  console.log(`MB = 10^6 bytes of payload; "uTP yields in": from TCP's start until uTP's 3-second rate falls under ¼ of its rate alone for good\n`);
  console.log([line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n'));
  const lt = rows.find((r) => r.pair === 'lt-lt');
  console.log('');
  for (const r of rows) {
    if (r.pair === 'lt-lt' || !lt) continue;
    const sender = r.pair.startsWith('cascade') ? "Cascade's LEDBAT" : "libtorrent's LEDBAT (Cascade receiving)";
    console.log(`${r.pair.replace('-', '→')}: TCP keeps ${f(r.tcpKeeps, 2)}× of its rate beside ${sender}, against ${f(lt.tcpKeeps, 2)}× beside libtorrent→libtorrent (ratio ${f(r.tcpKeeps / lt.tcpKeeps, 2)}; last quarter ${f(r.tcpLateKeeps, 2)}× vs ${f(lt.tcpLateKeeps, 2)}×); uTP alone ${f(r.utpAlone / lt.utpAlone, 2)}× lt→lt`);
  }
  await writeJson(o, rows, results);
}

async function writeJson(o: LinkRunOptions, summary: object[], runs: PairRun[]): Promise<void> {
  await mkdir(o.outDir, { recursive: true });
  const out = join(o.outDir, `swarm-link-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(out, JSON.stringify({ date: new Date().toISOString(), link: o.specText, spec: o.spec, window: o.window, size: o.size, summary, runs }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}
