// Traffic for the link emulator's test and the swarm bench's --link mode, one process per end so
// each runs in its own namespace (link.spawn). JSON lines on stdout.
//
//   flow.ts udp-echo <host>                       -> {"port"}; echoes every datagram back
//   flow.ts udp-probe <host:port> <n> <gapMs>     -> {"sent","received","rttMs":[...]} (n probes, 1 s grace)
//   flow.ts tcp-sink <host>                       -> {"port"}, then {"t","bytes"} every 100 ms while data comes
//   flow.ts tcp-source <host:port> [bytes]        sends (random bytes) until killed, or `bytes`, then exits

import { createSocket } from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import { connect, createServer } from 'node:net';

const emit = (e: object) => process.stdout.write(JSON.stringify(e) + '\n');
const hostPort = (s: string) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};
const [cmd, ...args] = process.argv.slice(2);

if (cmd === 'udp-echo') {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(0, args[0], () => emit({ port: s.address().port }));
} else if (cmd === 'udp-probe') {
  const { host, port } = hostPort(args[0]!);
  const n = Number(args[1]);
  const gap = Number(args[2]);
  const s = createSocket('udp4');
  const sentAt: number[] = [];
  const rttMs: number[] = [];
  s.on('message', (m) => {
    const i = m.readUInt32BE(0);
    if (sentAt[i] !== undefined) rttMs.push(performance.now() - sentAt[i]!);
  });
  s.bind(0, () => {
    let i = 0;
    const t = setInterval(() => {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(i);
      sentAt[i] = performance.now();
      s.send(b, port, host);
      if (++i === n) {
        clearInterval(t);
        setTimeout(() => {
          emit({ sent: n, received: rttMs.length, rttMs: rttMs.map((x) => +x.toFixed(2)) });
          s.close();
        }, 1000);
      }
    }, gap);
  });
} else if (cmd === 'tcp-sink') {
  let bytes = 0;
  const srv = createServer((c) => {
    c.on('data', (d) => (bytes += d.length));
    c.on('error', () => {});
  });
  srv.listen(0, args[0], () => emit({ port: (srv.address() as { port: number }).port }));
  let last = -1;
  setInterval(() => {
    if (bytes !== last) emit({ t: Date.now(), bytes });
    last = bytes;
  }, 100);
} else if (cmd === 'tcp-source') {
  const { host, port } = hostPort(args[0]!);
  const limit = args[1] === undefined ? Infinity : Number(args[1]);
  const chunk = randomFillSync(Buffer.alloc(256 * 1024));
  let sent = 0;
  const c = connect({ host, port }, () => {
    const pump = () => {
      while (sent < limit) {
        const n = Math.min(chunk.length, limit - sent);
        sent += n;
        if (!c.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void c.once('drain', pump);
      }
      c.end();
    };
    pump();
  });
  c.on('close', () => process.exit(0));
  c.on('error', (e) => {
    process.stderr.write(`tcp-source: ${e.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: flow.ts udp-echo|udp-probe|tcp-sink|tcp-source …\n');
  process.exit(2);
}
