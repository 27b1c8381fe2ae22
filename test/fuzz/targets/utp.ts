// uTP (BEP 29, packages/engine/src/utp/) in-process: decodePacket on every datagram, and a
// connection (accepted from a valid SYN, or one of ours that sent a SYN) fed the stream of
// datagrams a hostile peer sends, with its clock stepped and its timers run between them.
// Clean: a datagram decodePacket refuses (a reason string). A finding: any exception, a header
// that does not survive encode/decode, data delivered that no packet carried, a negative flight or
// window, or more datagrams sent back than the input could justify (an amplifier).
// Input: datagrams, each as a 2-byte big-endian length then its bytes. Byte 0 of the input picks
// the connection's side (bit 0) and whether connection ids are patched to match (bit 1).

import { UtpConnection, type UtpEnv } from '../../../packages/engine/src/utp/connection.ts';
import { HEADER_SIZE, ST_DATA, ST_FIN, ST_STATE, ST_SYN, decodePacket, encodePacket, type UtpHeader } from '../../../packages/engine/src/utp/packet.ts';
import { Rng } from '../lib/rng.ts';
import { concat } from '../lib/mutate.ts';
import { ACCEPTED, REJECTED, check, unexpected, type Outcome, type Target } from '../lib/target.ts';

const RECV_ID = 0x1234;

function frame(...packets: Uint8Array[]): Uint8Array {
  return concat(...packets.map((p) => concat(new Uint8Array([p.length >> 8, p.length & 0xff]), p)));
}

function header(type: UtpHeader['type'], seq: number, ack: number, extra: Partial<UtpHeader> = {}): UtpHeader {
  return { type, connectionId: RECV_ID, timestamp: 1000, timestampDiff: 0, window: 1 << 20, seq, ack, ...extra };
}

function run(input: Uint8Array): Outcome {
  if (input.length < 1) return REJECTED;
  const flags = input[0]!;
  let now = 0;
  let sent = 0;
  const env: UtpEnv = { now: () => now, micros: () => (now * 1000) >>> 0, send: () => void sent++ };
  let delivered = 0;
  let carried = 0;
  let decoded = 0;
  let conn: UtpConnection | undefined;
  try {
    if (flags & 1) conn = UtpConnection.connect(env, RECV_ID, 100);
    let off = 1;
    while (off + 2 <= input.length) {
      const len = (input[off]! << 8) | input[off + 1]!;
      const dgram = input.subarray(off + 2, Math.min(input.length, off + 2 + len));
      off += 2 + len;
      const p = decodePacket(dgram);
      if (typeof p === 'string') continue;
      decoded++;
      // Round trip: what we read, written again, reads the same.
      const again = decodePacket(encodePacket(p, p.payload));
      check(typeof again !== 'string', `re-encoded header refused: ${again}`);
      check(again.type === p.type && again.seq === p.seq && again.ack === p.ack && again.window === p.window && again.connectionId === p.connectionId, 'header changed in a round trip');
      check((again.sack?.length ?? 0) === (p.sack?.length ?? 0), 'selective ack changed in a round trip');
      if (!conn && p.type === ST_SYN) {
        conn = UtpConnection.accept(env, p, 5000, { recvBuffer: 64 * 1024 });
        conn.onData = (chunk) => void (delivered += chunk.length);
        continue;
      }
      if (!conn) continue;
      conn.onData ??= (chunk) => void (delivered += chunk.length);
      if (p.type === ST_DATA) carried += p.payload.length;
      conn.receive(p);
      conn.sendPendingAck();
      if (conn.state === 'connected' && (flags & 2)) conn.write(dgram.subarray(0, 3000));
      now += dgram.length % 7 === 0 ? 1200 : 3;
      conn.tick();
      check(conn.bytesInFlight >= 0, `bytes in flight ${conn.bytesInFlight}`);
      check(delivered <= carried, `delivered ${delivered} bytes of ${carried} carried`);
    }
    // Timers run out: the connection gives up or idles; either way it must not throw.
    for (let i = 0; i < 12 && conn && conn.state !== 'closed'; i++) {
      now += 70_000;
      conn.tick();
    }
    // Each packet may earn an ACK and some data; timers add a bounded number of resends.
    check(sent <= 4 * decoded + 64 + (flags & 2 ? 4 * decoded : 0), `${sent} datagrams sent for ${decoded} received`);
    return decoded > 0 ? ACCEPTED : REJECTED;
  } catch (err) {
    return unexpected(err);
  }
}

function fresh(rng: Rng): Uint8Array {
  const packets: Uint8Array[] = [encodePacket(header(ST_SYN, 1, 0, { connectionId: RECV_ID - 1 }))];
  let seq = rng.chance(0.3) ? 0xfff0 : 2; // near the wrap
  for (let i = rng.int(12); i > 0; i--) {
    const kind = rng.int(10);
    if (kind < 6) packets.push(encodePacket(header(ST_DATA, seq++ & 0xffff, 5000, { window: rng.chance(0.2) ? rng.pick([0, 1, 0xffffffff]) : 1 << 20 }), rng.bytes(rng.int(1400))));
    else if (kind < 7) packets.push(encodePacket(header(ST_DATA, (seq + rng.int(300)) & 0xffff, 5000), rng.bytes(100)));
    else if (kind < 8) packets.push(encodePacket(header(ST_STATE, seq & 0xffff, rng.int(0x10000), { sack: rng.bytes(4 * (1 + rng.int(8))) })));
    else if (kind < 9) packets.push(encodePacket(header(ST_FIN, seq & 0xffff, 5000)));
    else packets.push(rng.bytes(HEADER_SIZE + rng.int(40)));
  }
  return concat(new Uint8Array([rng.int(4)]), frame(...packets));
}

export const target: Target = {
  name: 'utp',
  minimize: true,
  seeds() {
    const syn = encodePacket(header(ST_SYN, 1, 0, { connectionId: RECV_ID - 1 }));
    const data = encodePacket(header(ST_DATA, 2, 5000), new Uint8Array(100).fill(7));
    const ahead = encodePacket(header(ST_DATA, 4, 5000), new Uint8Array(50));
    const sack = encodePacket(header(ST_STATE, 3, 5000, { sack: new Uint8Array([0xff, 0, 0, 0]) }));
    const fin = encodePacket(header(ST_FIN, 3, 5000));
    const wrap = encodePacket(header(ST_DATA, 0xffff, 5000), new Uint8Array(10));
    const truncatedExt = concat(syn.subarray(0, HEADER_SIZE), new Uint8Array([1, 8, 0]));
    truncatedExt[1] = 1;
    return [
      concat(new Uint8Array([0]), frame(syn, data, ahead, sack, fin)),
      concat(new Uint8Array([2]), frame(syn, data, wrap, truncatedExt)),
      concat(new Uint8Array([1]), frame(encodePacket(header(ST_STATE, 77, 100, { connectionId: RECV_ID })), data)),
    ];
  },
  fresh,
  run,
};
