// The built-in tracker on the web port too: GET /announce and /scrape, and the WebSocket tracker at
// /announce, are passed to the tracker's own port. So a public URL that is the web UI's address
// (https://cascade.example.org, behind a reverse proxy or not) is also where others announce: the
// publicUrl setting's <publicUrl>/announce and its wss:// form work with one port open (issue 20,
// defect 8). The tracker learns each announcer's address from the `ip` parameter, which it takes
// from a loopback caller only (this proxy); one a client sent itself is dropped.

import { connect } from 'node:net';
import { get as httpGet, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { isLoopbackHost } from '@cascade/node/features';

const PATHS = ['/announce', '/scrape'];

/** The tracker's HTTP address as this process reaches it. */
function trackerBase(ctx: ApiContext): URL | undefined {
  const http = ctx.endpoints().tracker?.http;
  if (!http) return undefined;
  const u = new URL(http);
  u.pathname = '/';
  u.search = '';
  return u;
}

/** The announcer's address: the socket's, or, from a reverse proxy on this machine, the last X-Forwarded-For hop. */
function clientIp(req: IncomingMessage): string {
  const own = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const forwarded = req.headers['x-forwarded-for'];
  if (isLoopbackHost(own) && typeof forwarded === 'string') {
    const last = forwarded.split(',').map((s) => s.trim()).filter((s) => s !== '').at(-1);
    if (last && /^[0-9a-fA-F.:]{2,45}$/.test(last)) return last.replace(/^::ffff:/, '');
  }
  return own;
}

function withoutIp(query: string): string {
  return query
    .split('&')
    .filter((p) => p !== '' && !/^ip=/i.test(p))
    .join('&');
}

function bencodedFailure(reason: string): Buffer {
  const r = Buffer.from(reason);
  return Buffer.concat([Buffer.from(`d14:failure reason${r.length}:`), r, Buffer.from('e')]);
}

/** fetch() will not send another Host header; http.get does. */
function getWithHost(url: URL, host: string | undefined): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: host ? { host } : {}, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export function announceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  for (const path of PATHS) {
    app.get(path, {
      config: { access: 'public' },
      schema: {
        summary: `The built-in tracker's HTTP ${path.slice(1)} (BEP 3/23/48), served on the web port too`,
        tags: ['node'],
      },
      handler: async (req: FastifyRequest, reply) => {
        const base = trackerBase(ctx);
        reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store');
        if (!base) return reply.send(bencodedFailure('this node runs without its tracker'));
        const raw = req.raw.url ?? path;
        const q = raw.indexOf('?');
        const query = [withoutIp(q >= 0 ? raw.slice(q + 1) : ''), `ip=${encodeURIComponent(clientIp(req.raw))}`].filter((s) => s !== '').join('&');
        try {
          const res = await fetch(new URL(`${path}?${query}`, base), { signal: AbortSignal.timeout(10_000) });
          return reply.code(res.status).send(Buffer.from(await res.arrayBuffer()));
        } catch {
          return reply.send(bencodedFailure('the tracker did not answer'));
        }
      },
    });
  }

  // What the tracker offers for WebRTC (its STUN service; TURN credentials when it mints them), at
  // the web port too: nodes and pages that know this node by its public URL ask there. The Host
  // header goes along, so the tracker names the address the asker used.
  app.get('/ice-servers', {
    config: { access: 'public' },
    schema: { summary: "The built-in tracker's STUN service (and TURN credentials), served on the web port too", tags: ['node'] },
    handler: async (req, reply) => {
      const base = trackerBase(ctx);
      reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store');
      if (!base) return reply.code(404).send({ error: 'this node runs without its tracker' });
      try {
        const { status, body } = await getWithHost(new URL('/ice-servers', base), req.headers.host);
        return reply.code(status).type('application/json').send(body);
      } catch {
        return reply.code(502).send({ error: 'the tracker did not answer' });
      }
    },
  });

  // WebSocket announces (WebTorrent's protocol) at /announce: the upgrade goes to the tracker as it
  // came. socket.io leaves upgrades for other paths alone for a second and then ends them only if
  // nothing was written, which the tracker's 101 has done by then.
  // Upgraded sockets still hold the HTTP server open: they go when the app closes.
  const open = new Set<Duplex>();
  app.addHook('preClose', (done) => {
    for (const s of open) s.destroy();
    done();
  });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/announce') return;
    const base = trackerBase(ctx);
    if (!base) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const upstream = connect(Number(base.port), base.hostname.replace(/^\[|\]$/g, ''), () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/announce'} HTTP/1.1`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
}
