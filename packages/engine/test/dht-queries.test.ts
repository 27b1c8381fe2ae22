// The DHT seam for methods of our own: a handler answers, a walk reaches a node known only through
// another, and a write needs the token the writer was handed (BEP 44's rule), all on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Dht } from '../src/node/dht.ts';

const HOST = '127.0.0.1';

test('custom KRPC methods: walk, token-checked write, reads from a node reached through another', async () => {
  const first = new Dht({ bootstrap: [], host: HOST });
  const firstPort = await first.listen(0);
  const nodes = [first];
  for (let i = 0; i < 3; i++) {
    const d = new Dht({ bootstrap: [`${HOST}:${firstPort}`], host: HOST });
    await d.listen(0);
    nodes.push(d);
  }
  try {
    await waitFor(() => nodes.every((n) => n.nodeCount() >= 1), 5000);
    const stored = new Map<number, string[]>();
    nodes.forEach((n, i) => {
      const q = n.queries!;
      stored.set(i, []);
      q.handle('x_get', () => ({ v: Buffer.from(stored.get(i)!.join(',')) }));
      q.handle('x_put', (a) => (stored.get(i)!.push(Buffer.from(a.v as Uint8Array).toString()), {}), { write: true });
    });
    assert.throws(() => nodes[0]!.queries!.handle('get_peers', () => ({})), /BEP 5\/44/);

    const target = crypto.randomBytes(20);
    const writer = nodes[3]!.queries!;
    const contacts = await writer.walk(target, 'x_get', {});
    assert.ok(contacts.length >= 3, `the walk met ${contacts.length} nodes with tokens`);
    const { accepted } = await writer.send(contacts, 'x_put', { v: 'hello' });
    assert.equal(accepted, contacts.length);

    // A write with a token handed to nobody is refused before the handler sees it.
    const forged = contacts.map((c) => ({ ...c, token: crypto.randomBytes(20) }));
    const refused = await writer.send(forged, 'x_put', { v: 'forged' });
    assert.equal(refused.accepted, 0);
    assert.match(refused.errors[0]!, /token/);

    const seen: string[] = [];
    await nodes[1]!.queries!.walk(target, 'x_get', {}, ({ r }) => seen.push(Buffer.from(r.v as Uint8Array).toString()));
    assert.ok(seen.includes('hello'), `a reader saw ${JSON.stringify(seen)}`);
    assert.ok(!seen.some((v) => v.includes('forged')));

    // A walk whose signal is aborted (a search the user stopped) asks nobody, or nobody more.
    let answers = 0;
    const none = await nodes[2]!.queries!.walk(target, 'x_get', {}, () => answers++, AbortSignal.abort());
    assert.deepEqual(none, []);
    assert.equal(answers, 0, 'an aborted walk asks no node');
    const stop = new AbortController();
    await nodes[2]!.queries!.walk(target, 'x_get', {}, () => (answers++, stop.abort()), stop.signal);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answers, 1, 'answers still on their way after the abort reach no one');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
