// The built-in tracker on the web port too: GET /announce and /scrape, and the WebSocket tracker at
// /announce, are passed to the tracker's own port. So a public URL that is the web UI's address
// (https://cascade.example.org, behind a reverse proxy or not) is also where others announce: the
// publicUrl setting's <publicUrl>/announce and its wss:// form work with one port open (issue 20,
// defect 8). The tracker learns each announcer's address from the `ip` parameter, which it takes
// from a loopback caller only (this proxy); one a client sent itself is dropped. Behind a reverse
// proxy, the announcer is what that proxy forwarded only when the owner named it (--trusted-proxy).

import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { nodeHttp } from '@cascade/engine/lazy-builtins';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../app/context.ts';

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
    const req = nodeHttp().get(url, { headers: host ? { host } : {}, timeout: 10_000 }, (res) => {
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
        const query = [withoutIp(q >= 0 ? raw.slice(q + 1) : ''), `ip=${encodeURIComponent(ctx.auth.clientAddress(req.raw))}`].filter((s) => s !== '').join('&');
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
    // The announcer's address as this node decides it (a trusted proxy's forwarded one, else the
    // socket's) goes along as the only X-Forwarded-For, which the tracker believes from this one
    // connection: its rate limit and swarm see the announcer, not this process.
    const client = ctx.auth.clientAddress(req);
    let untrust = () => {};
    const upstream = connect(Number(base.port), base.hostname.replace(/^\[|\]$/g, ''), () => {
      if (upstream.localAddress && upstream.localPort) untrust = ctx.trustForwarder?.(upstream.localAddress, upstream.localPort) ?? untrust;
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/announce'} HTTP/1.1`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        if (name !== 'x-forwarded-for' && name !== 'forwarded') lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`X-Forwarded-For: ${client}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      untrust();
      socket.destroy();
    });
  });
}
