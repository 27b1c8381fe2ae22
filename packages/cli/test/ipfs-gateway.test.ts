// Issue 13: a real IPFS client reads a torrent's metadata block from a `cascade serve` node. The
// client is Helia's HTTP-only node (@helia/http): its trustless-gateway block broker fetches
// `GET /ipfs/<cid>?format=raw` from the gateways its router names, and Helia hashes what comes back
// against the CID before handing it out. The node is the one gateway it knows; a proxy that forges
// the block shows the client checks it; and nothing here may reach past 127.0.0.0/8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHeliaHTTP, type Helia } from '@helia/http';
import { trustlessGateway } from '@helia/block-brokers';
import { httpGatewayRouting } from '@helia/routers';
import { CID } from 'multiformats/cid';
import { readMetadataBlock } from '@cascade/chain';
import { tempDir } from './helpers.ts';
import { cascade, startServe, until } from './node-process.ts';

// Everything this process tries to reach outside 127.0.0.0/8, whichever way it goes: fetch (which
// the gateway client uses) is refused there, and any TCP socket (a libp2p dial, a hostname lookup)
// is noted. The node and the `cascade` verbs run in child processes and are not watched here.
const outside: string[] = [];
const isLoopback = (host: string | undefined) => host !== undefined && /^127\.\d+\.\d+\.\d+$/.test(host);
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (isLoopback(url.hostname)) return realFetch(input, init);
  outside.push(`fetch ${url.href}`);
  return Promise.reject(new Error(`this test reaches 127.0.0.0/8 only, not ${url.href}`));
};
dc.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: Socket }).socket;
  socket.on('lookup', (_err, address, _family, host) => void (isLoopback(host) || outside.push(`lookup ${host}`)));
  socket.on('connectionAttempt', (ip: string, port: number) => void (isLoopback(ip) || outside.push(`connect ${ip}:${port}`)));
});
const dnsQueries: string[] = [];

/** A Helia node whose only way to a block is the trustless gateway at `gateway`. */
async function ipfsClient(t: { after: (fn: () => unknown) => void }, gateway: string): Promise<Helia> {
  const helia = await createHeliaHTTP({
    // This gateway only: by default the router adds public gateways (trustless-gateway.link,
    // 4everland.io) and a libp2p router beside it.
    routers: [httpGatewayRouting({ gateways: [gateway], shuffle: false })],
    // The broker skips http:// and private addresses unless told: the node is http://127.0.0.1.
    blockBrokers: [trustlessGateway({ allowInsecure: true, allowLocal: true })],
    // @helia/http's libp2p comes with a delegated router (delegated-ipfs.dev): no services at all.
    libp2p: { services: {} },
    // No name is ever resolved: a lookup would land here and fail the test.
    dns: { query: async (domain: string) => { dnsQueries.push(domain); throw new Error(`no DNS in this test (${domain})`); } } as never,
  });
  t.after(() => helia.stop());
  return helia;
}

async function getBlock(helia: Helia, cid: CID): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of helia.blockstore.get(cid, { signal: AbortSignal.timeout(20_000) })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A gateway in front of `target` that renames the file in every block it passes on. */
async function forgingGateway(t: { after: (fn: () => unknown) => void }, target: string) {
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    requests.push(`${req.url} ${req.headers.accept}`);
    const upstream = await fetch(`${target}${req.url}`, { headers: { accept: String(req.headers.accept ?? '') } });
    const body = Buffer.from((await upstream.text()).replaceAll('song.flac', 'evil.flac'));
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

test('a real IPFS client (@helia/http) fetches a registered torrent’s metadata block with the node as its only gateway and checks it; a forged block is refused; nothing leaves 127.0.0.0/8', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t);
  await until('the chain running', async () => ((await node.run(['health', '--json'])).json.chain?.state === 'running' ? true : undefined));
  const dir = tempDir(t);
  writeFileSync(join(dir, 'song.flac'), 'la'.repeat(40_000));
  const made = await cascade(['create', join(dir, 'song.flac'), '-o', join(dir, 'song.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const registered = await node.run(['register', join(dir, 'song.torrent'), '--json']);
  assert.equal(registered.code, 0, registered.stderr);
  const cid = CID.parse(registered.json.metadataCid as string);
  const did = (await node.run(['identity', '--json'])).json.did as string;
  assert.ok(isLoopback(new URL(node.url).hostname), node.url);

  // Straight from the node: the client hands out the block only once it hashes to the CID.
  const bytes = await getBlock(await ipfsClient(t, node.url), cid);
  const meta = await readMetadataBlock(cid.toString(), bytes);
  assert.equal(meta.infoHash, made.json.infoHash);
  assert.equal(meta.owner, did);
  assert.deepEqual(meta.files, [{ path: 'song.flac', length: 80_000 }]);

  // Through a gateway that forges the block: plain fetch takes the forged bytes as they come…
  const forger = await forgingGateway(t, node.url);
  const plain = await fetch(`${forger.url}/ipfs/${cid}?format=raw`);
  assert.equal(plain.status, 200);
  const forged = new Uint8Array(await plain.arrayBuffer());
  assert.match(Buffer.from(forged).toString(), /"path":"evil\.flac"/);
  await assert.rejects(readMetadataBlock(cid.toString(), forged), /does not hash to/);
  // …and the IPFS client, asking the same gateway, fetches them and refuses them (a fresh client:
  // the first one keeps the good block in memory and would never ask).
  forger.requests.length = 0;
  await assert.rejects(getBlock(await ipfsClient(t, forger.url), cid), (err: Error) => err.name === 'LoadBlockFailedError');
  assert.deepEqual(forger.requests, [`/ipfs/${cid}?format=raw application/vnd.ipld.raw`], 'the client got the forged block and would not take it');

  assert.deepEqual(outside, [], 'nothing tried to reach past 127.0.0.0/8');
  assert.deepEqual(dnsQueries, [], 'no name was resolved');
});
