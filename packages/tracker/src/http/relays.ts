// The onion relay directory at /relays (docs/onion.md): relays POST their signed descriptors, clients
// GET the list, signed with this tracker's directory key. Loaded on the first request, so a tracker
// nobody asks for relays pays nothing for it.
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Directory {
  publish(d: unknown, source: string): string | undefined;
  list(): unknown;
}

const MAX_BODY = 4096;

export function relayDirectoryRoute(): (req: IncomingMessage, res: ServerResponse, ip: string) => Promise<void> {
  let directory: Promise<Directory> | undefined;
  const load = () =>
    (directory ??= (async () => {
      const [{ RelayDirectory }, { generateIdentity }] = await Promise.all([import('@cascade/onion/directory'), import('@cascade/identity')]);
      return new RelayDirectory(generateIdentity('relay directory'));
    })());
  return async (req, res, ip) => {
    const json = (status: number, body: unknown) =>
      void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body) + '\n');
    // Pages of any origin read the list (a browser builds its own circuits) and publish to it (a tab
    // that relays): descriptors carry their own signatures, so the origin of a request adds nothing.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      return void res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' }).end();
    }
    if (req.method === 'GET') return json(200, (await load()).list());
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST, OPTIONS' }).end();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) return json(413, { error: `descriptor over ${MAX_BODY} bytes` });
      chunks.push(c);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return json(400, { error: 'descriptor is not JSON' });
    }
    const problem = (await load()).publish(body, ip);
    return problem ? json(400, { error: `descriptor refused: ${problem}` }) : json(200, { ok: true });
  };
}
