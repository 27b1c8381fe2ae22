// A stand-in Arweave gateway for tests (issue 61 item 4): arlocal, the usual local gateway, does not
// install here (one of its dependencies is fetched from a git host). It speaks the HTTP API exactly
// as the `arweave` 1.15 client uses it — read from its source, node_modules/arweave/node:
//   GET  /info, /tx_anchor, /price/{bytes}[/{target}], /wallet/{address}/balance
//   POST /tx        a signed transaction, data in the body or announced by data_root/data_size
//   POST /chunk     {data_root, data_size, data_path, offset, chunk} for data too big for the body
//   GET  /tx/{id}, /tx/{id}/status, /tx/{id}/offset, /chunk/{offset}, /tx/{id}/data, /{id}
// Transactions are checked with the client's own code: the id is the hash of the signature, the
// signature verifies against the owner's key (a forged one is refused with 400), data hashes to the
// signed data_root. A transaction is "mined" (confirmed, one block) as soon as all its data is in.
// What it leaves out: format 1 transactions, balances and fees (every wallet can pay), GraphQL,
// forks. `tamper` makes it serve other bytes for a transaction: a lying gateway, for tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Arweave from 'arweave';
import { generateTransactionChunks, validatePath } from 'arweave/node/lib/merkle.js';

type Chunks = Awaited<ReturnType<typeof generateTransactionChunks>>;

interface Held {
  /** The transaction as posted, its data left out (format 2 keeps data apart from the header). */
  header: Record<string, unknown>;
  size: number;
  dataRoot: string;
  /** Absolute position of its first byte in the weave (the offsets /tx/{id}/offset and /chunk speak). */
  start: number;
  data: Uint8Array;
  /** Bytes received so far by /chunk, by range start: the data is complete when they cover it. */
  got: Map<number, number>;
  chunks?: Chunks;
  /** Block height it was mined at; undefined while data is missing. */
  height?: number;
  contentType?: string;
}

export interface StandInGateway {
  url: string;
  /** Transactions held, by id. */
  readonly held: ReadonlyMap<string, { size: number; mined: boolean }>;
  /** Requests answered, as "METHOD /path" (for tests that check which endpoints the client used). */
  readonly requests: string[];
  /** Serve `bytes` instead of a transaction's data (same length keeps the chunk ranges). */
  tamper(id: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

const ID = /^[A-Za-z0-9_-]{43}$/;
const MAX_BODY = 64 * 1024 * 1024;

export async function startStandInGateway(opts: { host?: string; port?: number } = {}): Promise<StandInGateway> {
  const host = opts.host ?? '127.0.0.1';
  // Only its local parts are used (signature checks, hashing): it never reaches a network.
  const ar = Arweave.init({ host, port: 1, protocol: 'http' });
  const txs = new Map<string, Held>();
  const byRoot = new Map<string, Held[]>();
  const lies = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const blocks: string[] = [b64(randomBytes(48))];
  let weave = 0;

  const served = (h: Held, id: string) => lies.get(id) ?? h.data;
  const mine = (h: Held) => {
    blocks.push(b64(randomBytes(48)));
    h.height = blocks.length - 1;
  };

  async function postTx(body: Buffer, res: ServerResponse): Promise<void> {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return text(res, 400, 'Invalid JSON.');
    }
    const tx = ar.transactions.fromRaw(raw);
    if (tx.format !== 2) return text(res, 400, 'The stand-in takes format 2 transactions only.');
    const valid = await ar.transactions.verify(tx).catch(() => false);
    if (!valid) return text(res, 400, 'Transaction verification failed.');
    if (txs.has(tx.id)) return text(res, 208, 'Transaction already processed.');
    const size = Number(tx.data_size);
    if (!Number.isSafeInteger(size) || size < 0) return text(res, 400, 'Invalid data_size.');
    const h: Held = { header: { ...raw, data: '' }, size, dataRoot: tx.data_root, start: weave, data: new Uint8Array(size), got: new Map() };
    const type = tx.tags.find((t) => t.get('name', { decode: true, string: true }) === 'Content-Type');
    if (type) h.contentType = type.get('value', { decode: true, string: true });
    if (tx.data.byteLength > 0) {
      if (tx.data.byteLength !== size) return text(res, 400, 'Data size does not match data_size.');
      h.chunks = await generateTransactionChunks(tx.data);
      if (b64(h.chunks.data_root) !== tx.data_root) return text(res, 400, 'Data root does not match data.');
      h.data = tx.data;
      h.got.set(0, size);
    }
    weave += size;
    txs.set(tx.id, h);
    byRoot.set(h.dataRoot, [...(byRoot.get(h.dataRoot) ?? []), h]);
    if (size === 0 || h.chunks) mine(h);
    text(res, 200, 'OK');
  }

  async function postChunk(body: Buffer, res: ServerResponse): Promise<void> {
    let c: { data_root?: string; data_size?: string; data_path?: string; offset?: string; chunk?: string };
    try {
      c = JSON.parse(body.toString('utf8')) as typeof c;
    } catch {
      return json(res, 400, { error: 'invalid_json' });
    }
    const waiting = (byRoot.get(c.data_root ?? '') ?? []).filter((h) => h.height === undefined && String(h.size) === c.data_size);
    if (waiting.length === 0) return json(res, 400, { error: 'data_root_not_found' });
    const root = Arweave.utils.b64UrlToBuffer(c.data_root!);
    const chunk = Arweave.utils.b64UrlToBuffer(c.chunk ?? '');
    const at = await validatePath(root, Number(c.offset), 0, Number(c.data_size), Arweave.utils.b64UrlToBuffer(c.data_path ?? '')).catch(() => false as const);
    if (!at || at.rightBound - at.leftBound !== chunk.byteLength) return json(res, 400, { error: 'invalid_proof' });
    // The path proves the leaf's range and hash; the chunk must be the bytes that hash to it.
    const leafHash = Arweave.utils.b64UrlToBuffer(c.data_path!).slice(-64, -32);
    if (!Buffer.from(await Arweave.crypto.hash(chunk)).equals(Buffer.from(leafHash))) return json(res, 400, { error: 'invalid_proof' });
    for (const h of waiting) {
      h.data.set(chunk, at.leftBound);
      h.got.set(at.leftBound, chunk.byteLength);
      const have = [...h.got.values()].reduce((a, b) => a + b, 0);
      if (have >= h.size) {
        h.chunks = await generateTransactionChunks(h.data);
        if (b64(h.chunks.data_root) === h.dataRoot) mine(h);
      }
    }
    json(res, 200, {});
  }

  async function get(path: string, res: ServerResponse): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    if (path === '/info') {
      return json(res, 200, { network: 'cascade.stand-in', version: 5, release: 1, height: blocks.length - 1, current: blocks.at(-1), blocks: blocks.length, peers: 0, queue_length: 0, node_state_latency: 0 });
    }
    if (path === '/tx_anchor') return text(res, 200, blocks.at(-1)!);
    // A flat fee per byte (winston), as a decimal string: the client checks it is digits only.
    if (parts[0] === 'price' && parts.length >= 2 && /^\d+$/.test(parts[1]!)) return text(res, 200, String(1000 + Number(parts[1]) * 10));
    if (parts[0] === 'wallet' && parts[2] === 'balance') return text(res, 200, '1000000000000000');
    if (parts[0] === 'wallet' && parts[2] === 'last_tx') return text(res, 200, '');
    if (parts[0] === 'chunk' && parts.length === 2 && /^\d+$/.test(parts[1]!)) {
      const offset = Number(parts[1]);
      for (const [id, h] of txs) {
        if (h.height === undefined || !h.chunks || offset < h.start || offset >= h.start + h.size) continue;
        const rel = offset - h.start;
        const i = h.chunks.chunks.findIndex((c) => rel >= c.minByteRange && rel < c.maxByteRange);
        const c = h.chunks.chunks[i]!;
        return json(res, 200, { chunk: b64(served(h, id).slice(c.minByteRange, c.maxByteRange)), data_path: b64(h.chunks.proofs[i]!.proof), tx_path: '', packing: 'unpacked' });
      }
      return text(res, 404, 'Not Found.');
    }
    const id = parts[0] === 'tx' ? parts[1] : parts.length === 1 ? parts[0] : undefined;
    const h = id !== undefined && ID.test(id) ? txs.get(id) : undefined;
    if (!h || id === undefined) return text(res, 404, 'Not Found.');
    const sub = parts[0] === 'tx' ? parts.slice(2).join('/') : 'raw';
    if (sub === '') return h.height === undefined ? text(res, 202, 'Pending') : json(res, 200, h.header);
    if (sub === 'status') {
      if (h.height === undefined) return text(res, 202, 'Pending');
      return json(res, 200, { block_height: h.height, block_indep_hash: blocks[h.height], number_of_confirmations: blocks.length - h.height });
    }
    if (h.height === undefined) return text(res, 404, 'Not Found.');
    if (sub === 'offset') return json(res, 200, { offset: String(h.start + h.size - 1), size: String(h.size) });
    if (sub === 'data') return text(res, 200, b64(served(h, id)));
    if (sub === 'raw') {
      res.writeHead(200, { 'content-type': h.contentType ?? 'application/octet-stream', 'content-length': served(h, id).byteLength });
      return void res.end(served(h, id));
    }
    text(res, 404, 'Not Found.');
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    void (async () => {
      if (req.method === 'GET' || req.method === 'HEAD') return get(path, res);
      if (req.method !== 'POST') return text(res, 405, 'Method Not Allowed.');
      const body = await readBody(req);
      if (!body) return text(res, 413, 'Payload Too Large.');
      if (path === '/tx') return postTx(body, res);
      if (path === '/chunk') return postChunk(body, res);
      text(res, 404, 'Not Found.');
    })().catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, (err as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    get held() {
      return new Map([...txs].map(([id, h]) => [id, { size: h.size, mined: h.height !== undefined }]));
    },
    requests,
    tamper: (id, bytes) => void lies.set(id, bytes),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function b64(bytes: Uint8Array): string {
  return Arweave.utils.bufferTob64Url(bytes);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).byteLength;
    if (size > MAX_BODY) return undefined;
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}
