// An RTCDataChannel behind the Connection seam, so the BitTorrent wire protocol runs over WebRTC
// exactly as WebTorrent does: the channel carries the same byte stream a TCP socket would, cut into
// messages wherever convenient. Platform-free: works with the browser's RTCPeerConnection and with
// node-datachannel's polyfill.

import type { Connection } from '../platform.ts';

/** Largest message we send when the remote allows it (Chromium, Firefox, libdatachannel: 256 KiB or
 *  more). Fewer, larger messages measured ~30% faster page → node than 64 KiB ones. */
export const MAX_MESSAGE = 256 * 1024;
/** What every implementation accepts; used when the remote's limit is unknown. */
const SAFE_MESSAGE = 64 * 1024;
/** write() says "wait" above this many bytes queued (Chromium closes a channel past 16 MiB). */
const HIGH_WATER = 2 * 1024 * 1024;
/** …and drain fires once the channel's buffer falls to this. */
const LOW_WATER = 512 * 1024;

export interface DataChannelConnectionOptions {
  /** What PeerStats.address shows, and the key the torrent dedupes peers by. */
  remote: string;
  /** Closed together with the channel. */
  pc?: RTCPeerConnection;
  maxMessageSize?: number;
  highWater?: number;
  lowWater?: number;
  /** Told each message's size once the data handlers had it (they copy what they keep). */
  received?: (bytes: number) => void;
}

/** Wraps an open (or opening) data channel. Small writes in one tick are sent as one message. */
export function dataChannelConnection(channel: RTCDataChannel, opts: DataChannelConnectionOptions): Connection {
  const maxMsg = Math.max(1024, Math.min(opts.maxMessageSize ?? MAX_MESSAGE, remoteMaxMessage(opts.pc)));
  const high = opts.highWater ?? HIGH_WATER;
  const low = opts.lowWater ?? LOW_WATER;
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = low;

  let closed = false;
  let corked = 0;
  let flushQueued = false;
  /** The message being assembled (ours: every write is copied in, so the caller may reuse its
   *  buffer at once, and drained() is always true), and how much of it is filled. */
  let cur: Uint8Array | undefined;
  let fill = 0;
  /** Whole messages made before the channel could take them (still connecting): each its own. */
  let queued: Uint8Array[] = [];
  let needDrain = false;
  let paused = false;
  const held: Uint8Array[] = [];
  const dataFns: ((chunk: Uint8Array, borrowed: boolean) => void)[] = [];
  const drainFns: (() => void)[] = [];
  const closeFns: ((err?: Error) => void)[] = [];
  let closeError: Error | undefined;
  let closeFired = false;
  const pendingBytes = () => queued.length * maxMsg + fill;

  const fireClose = (err?: Error) => {
    if (closeFired) return;
    closeFired = true;
    closed = true;
    closeError ??= err;
    queued = [];
    fill = 0;
    for (const fn of closeFns) fn(closeError);
    for (const fn of drainFns) fn();
  };

  const shutdown = (err?: Error) => {
    if (closed && closeFired) return;
    closed = true;
    closeError ??= err;
    try {
      channel.close();
    } catch {
      // already closed
    }
    try {
      opts.pc?.close();
    } catch {
      // already closed
    }
    // Listeners hear about it asynchronously, like a socket's 'close'.
    queueMicrotask(() => fireClose());
  };

  // Every message is a fresh ArrayBuffer: never borrowed.
  const deliver = (chunk: Uint8Array) => {
    for (const fn of dataFns) fn(chunk, false);
  };

  const maybeDrain = () => {
    if (!needDrain || closed) return;
    if (channel.bufferedAmount + pendingBytes() > low) return;
    needDrain = false;
    for (const fn of drainFns) fn();
  };

  // send() copies what it is given before it returns (libdatachannel into its queue, browsers
  // too): the one message buffer is reused for the next message at once.
  const sendRaw = (msg: Uint8Array): boolean => {
    try {
      channel.send(msg as Uint8Array<ArrayBuffer>);
      return true;
    } catch (err) {
      shutdown(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  };

  /**
   * Copies `data` into the message being assembled; each message that fills goes out at once
   * (corked or not: a full message cannot get any bigger), or waits in `queued` until the channel
   * opens. Copying here rather than when flushing means no caller buffer is held: a seeder's piece
   * buffers were otherwise pinned by the short tail each flush left, so its piece cache could not
   * reuse them and read every piece into a fresh one (a full collection every 64 MB sent).
   */
  const append = (data: Uint8Array) => {
    const open = channel.readyState === 'open';
    // A message-sized write with nothing assembled goes out as it is.
    if (fill === 0 && data.length === maxMsg && open && queued.length === 0) {
      sendRaw(data);
      return;
    }
    let off = 0;
    while (off < data.length && !closed) {
      cur ??= new Uint8Array(maxMsg);
      const take = Math.min(maxMsg - fill, data.length - off);
      cur.set(off === 0 && take === data.length ? data : data.subarray(off, off + take), fill);
      fill += take;
      off += take;
      if (fill < maxMsg) break;
      if (open && queued.length === 0) sendRaw(cur);
      else {
        queued.push(cur);
        cur = undefined;
      }
      fill = 0;
    }
  };

  /** Sends what is queued and the message assembled so far. */
  const flush = () => {
    flushQueued = false;
    if (closed || pendingBytes() === 0) return;
    if (channel.readyState !== 'open') {
      if (channel.readyState === 'connecting') return; // sent from the 'open' handler
      return shutdown(new Error('data channel is not open'));
    }
    const whole = queued;
    queued = [];
    for (const m of whole) if (!sendRaw(m)) return;
    if (fill > 0 && !sendRaw(cur!.subarray(0, fill))) return;
    fill = 0;
    // The channel may have swallowed everything at once: then no 'bufferedamountlow' will come.
    if (needDrain && channel.bufferedAmount <= low) queueMicrotask(maybeDrain);
  };

  // Flushing after the current task (not the current microtask) lets a burst of blocks written by
  // the uploader's promise chain leave as a few full-size messages instead of one per block.
  const scheduleFlush = () => {
    if (flushQueued || corked > 0) return;
    flushQueued = true;
    afterTask(() => flush());
  };

  channel.addEventListener('message', (e: MessageEvent) => {
    if (closed) return;
    const d = e.data as unknown;
    const chunk = d instanceof ArrayBuffer ? new Uint8Array(d) : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new TextEncoder().encode(String(d));
    if (paused) held.push(chunk);
    else {
      deliver(chunk);
      opts.received?.(chunk.length);
    }
  });
  channel.addEventListener('bufferedamountlow', maybeDrain);
  channel.addEventListener('open', () => flush());
  channel.addEventListener('close', () => {
    closed = true;
    fireClose();
  });
  channel.addEventListener('error', (e: Event) => {
    const err = (e as { error?: unknown }).error;
    shutdown(err instanceof Error ? err : new Error('data channel error'));
  });
  opts.pc?.addEventListener('connectionstatechange', () => {
    const s = opts.pc!.connectionState;
    if (s === 'failed' || s === 'closed') shutdown(new Error(`WebRTC connection ${s}`));
  });

  const conn: Connection & { relayed: boolean } = {
    remote: opts.remote,
    transport: 'webrtc',
    relayed: false,
    write(data) {
      if (closed) return false;
      if (data.length === 0) return true;
      append(data);
      if (pendingBytes() > 0) scheduleFlush();
      const ok = channel.bufferedAmount + pendingBytes() < high;
      if (!ok) needDrain = true;
      return ok;
    },
    cork() {
      corked++;
    },
    uncork() {
      if (corked > 0 && --corked === 0 && pendingBytes() > 0) scheduleFlush();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      while (held.length > 0 && !paused && !closed) deliver(held.shift()!);
    },
    close() {
      shutdown();
    },
    onData(fn) {
      dataFns.push(fn);
    },
    onDrain(fn) {
      drainFns.push(fn);
    },
    // write() copies into our own message buffer: nothing the caller passed is held.
    drained() {
      return true;
    },
    onClose(fn) {
      closeFns.push(fn);
      if (closeFired) queueMicrotask(() => fn(closeError));
    },
  };
  // Which candidates ICE settled on is known once the channel is open; a pair that changes later
  // (ICE restart) is not followed.
  if (opts.pc) {
    const pc = opts.pc;
    const learn = () => void selectedCandidateTypes(pc).then((t) => (conn.relayed = t.some((x) => x === 'relay')), () => {});
    if (channel.readyState === 'open') learn();
    else channel.addEventListener('open', learn, { once: true });
  }
  return conn;
}

/** Runs `fn` in a later task without timer clamping: setImmediate in Node, a MessageChannel in pages. */
const afterTask: (fn: () => void) => void = (() => {
  const si = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof si === 'function') return (fn: () => void) => void si(fn);
  if (typeof MessageChannel === 'function') {
    const queue: (() => void)[] = [];
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      for (const fn of queue.splice(0)) fn();
    };
    return (fn: () => void) => {
      queue.push(fn);
      if (queue.length === 1) ch.port2.postMessage(0);
    };
  }
  return (fn: () => void) => void setTimeout(fn, 0);
})();

function remoteMaxMessage(pc: RTCPeerConnection | undefined): number {
  const n = pc?.sctp?.maxMessageSize;
  return typeof n === 'number' && n > 0 ? n : SAFE_MESSAGE;
}

/** Resolves once ICE gathering is complete (all candidates are in localDescription), or after `ms`. */
export function iceGatheringDone(pc: RTCPeerConnection, ms = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === 'complete') done();
    }
    function onCandidate(e: RTCPeerConnectionIceEvent) {
      if (!e.candidate) done();
    }
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

/** Resolves when the channel opens; rejects when it closes first, when its peer connection `pc`
 *  fails or closes first (see connectionEnded), or after `ms`. */
export function channelOpen(channel: RTCDataChannel, ms = 30_000, pc?: RTCPeerConnection): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('WebRTC data channel did not open in time')), ms);
    const ended = pc ? connectionEnded(pc, (err) => fail(err)) : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      ended?.();
      channel.removeEventListener('open', ok);
      channel.removeEventListener('close', closed);
    };
    const ok = () => (cleanup(), resolve());
    const closed = () => fail(new Error('WebRTC data channel closed before it opened'));
    function fail(err: Error) {
      cleanup();
      reject(err);
    }
    channel.addEventListener('open', ok);
    channel.addEventListener('close', closed);
  });
}

/**
 * Calls `onEnd` once `pc` has failed or closed (ICE or DTLS gave up, or it was closed), at once if
 * it has already; returns a function that stops listening. A connection attempt is over then:
 * libdatachannel's channel never reports it (a handshake that fails closes the connection with its
 * callbacks already let go), so waiting for the channel held the attempt, and the peer with it, for
 * the whole connect timeout.
 */
export function connectionEnded(pc: RTCPeerConnection, onEnd: (err: Error) => void): () => void {
  const over = () => pc.connectionState === 'failed' || pc.connectionState === 'closed';
  const check = () => {
    if (!over()) return;
    pc.removeEventListener('connectionstatechange', check);
    onEnd(new Error(`WebRTC connection ${pc.connectionState} before its data channel opened`));
  };
  pc.addEventListener('connectionstatechange', check);
  queueMicrotask(check);
  return () => pc.removeEventListener('connectionstatechange', check);
}

export interface CandidatePairInfo {
  local: string;
  remote: string;
}

/** The candidate types ('host', 'srflx', 'prflx', 'relay') of the selected pair's two ends. */
export async function selectedCandidateTypes(pc: RTCPeerConnection): Promise<string[]> {
  const ext = (pc as { selectedCandidatePair?: () => { local: { type?: string }; remote: { type?: string } } | null }).selectedCandidatePair;
  if (typeof ext === 'function') {
    const p = ext.call(pc);
    return p ? [p.local.type ?? '', p.remote.type ?? ''] : [];
  }
  const stats = await pc.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  let pairId: string | undefined;
  stats.forEach((s: Record<string, unknown>) => {
    byId.set(s.id as string, s);
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
  });
  if (!pairId) stats.forEach((s: Record<string, unknown>) => void (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded' && (pairId ??= s.id as string)));
  const pair = pairId ? byId.get(pairId) : undefined;
  if (!pair) return [];
  return [pair.localCandidateId, pair.remoteCandidateId].map((id) => String(byId.get(id as string)?.candidateType ?? ''));
}

/** The ICE candidate pair(s) in use, from getStats() (browser) or node-datachannel's extension. */
export async function selectedCandidatePairs(pc: RTCPeerConnection): Promise<CandidatePairInfo[]> {
  const ext = (pc as { selectedCandidatePair?: () => { local: { address: string; port: number }; remote: { address: string; port: number } } | null }).selectedCandidatePair;
  if (typeof ext === 'function') {
    const p = ext.call(pc);
    return p ? [{ local: `${p.local.address}:${p.local.port}`, remote: `${p.remote.address}:${p.remote.port}` }] : [];
  }
  const stats = await pc.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
  const out: CandidatePairInfo[] = [];
  const addr = (c: Record<string, unknown> | undefined) => `${(c?.address ?? c?.ip) as string}:${c?.port as number}`;
  const pairIds = new Set<string>();
  stats.forEach((s: Record<string, unknown>) => {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairIds.add(s.selectedCandidatePairId);
  });
  if (pairIds.size === 0) {
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded'))) pairIds.add(s.id as string);
    });
  }
  for (const id of pairIds) {
    const pair = byId.get(id);
    if (!pair) continue;
    out.push({ local: addr(byId.get(pair.localCandidateId as string)), remote: addr(byId.get(pair.remoteCandidateId as string)) });
  }
  return out;
}
