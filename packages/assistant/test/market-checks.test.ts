// The market's failure modes (issue 62) as the assistant's findings, from what a node shows it
// (NodeView.market): a purchase not delivered yet, a deadline passed (with the refund as an action and
// a command), a bad key, a sale the node missed, and a chain without a market contract or that fails
// (the wrong network). A node without a chain says nothing about the market. The built-in answer to
// "why hasn't my purchase arrived?" leads with the finding and cites the market's help entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createAssistant, runChecks } from '../index.ts';
import type { MarketView, NodeView } from '../index.ts';
import { healthView } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 2, 12, 0, 0);
const S = NOW / 1000;
const helpDir = fileURLToPath(new URL('../../../docs/help/', import.meta.url));

/** The market's findings only (the sample health has node-wide ones of its own). */
const checks = async (n: NodeView) => (await runChecks(n, undefined, NOW)).filter((x) => x.id.startsWith('market-'));

function node(market?: () => Promise<MarketView | undefined>): NodeView {
  return { health: () => healthView(), torrents: () => [], torrent: () => undefined, ...(market ? { market } : {}) };
}

const order = (id: string, role: 'buyer' | 'seller', status: string, deadline: number) => ({ id, name: 'Concert', role, status, deadline, priceShown: '5 SEED' });

test('the market\'s findings: not delivered yet, deadline passed, bad key, a missed sale, the wrong network', async () => {
  const m: MarketView = { orders: [order('1', 'buyer', 'paid', S + 1800), order('2', 'buyer', 'expired', S - 600), order('3', 'buyer', 'bad-key', S - 60), order('4', 'seller', 'expired', S - 60), order('5', 'buyer', 'opened', S - 60)] };
  const f = await checks(node(async () => m));
  assert.deepEqual(f.map((x) => x.id), ['market-not-delivered', 'market-deadline-passed', 'market-bad-key', 'market-sale-missed']);
  assert.match(f[0]!.title, /order 1 \(Concert, 5 SEED\) is paid and not delivered yet/);
  assert.match(f[0]!.evidence, /until 12:30:00 UTC \(30 min from now\)/);
  assert.match(f[1]!.title, /did not deliver order 2 .* take your refund/);
  assert.deepEqual(f[1]!.actions.map((a) => [a.command, a.request?.path]), [['cascade market refund 2', '/api/market/orders/2/refund']]);
  for (const x of f) assert.deepEqual(x.entries, ['market']);

  const wrong = await checks(node(async () => ({ problem: 'this node\'s chain (id 1) has no market contract', orders: [] })));
  assert.deepEqual(wrong.map((x) => [x.id, x.evidence]), [['market-wrong-network', 'this node\'s chain (id 1) has no market contract']]);
  const down = await checks(node(async () => { throw new Error('chain 31337 does not answer at http://127.0.0.1:8545'); }));
  assert.deepEqual(down.map((x) => x.id), ['market-wrong-network']);
  assert.match(down[0]!.evidence, /does not answer/);
  assert.deepEqual(await checks(node(async () => undefined)), [], 'no chain: nothing about the market');
  assert.deepEqual(await checks(node()), []);
});

test('asked why a purchase has not arrived, the built-in answer leads with the finding and cites the market entry', async () => {
  const a = createAssistant({ helpDir, node: node(async () => ({ orders: [order('7', 'buyer', 'expired', Math.floor(Date.now() / 1000) - 120)] })), checks: (n, ih) => runChecks(n, ih) });
  const r = await a.ask({ question: 'I bought a file on the market but it was never delivered' });
  assert.equal(r.findings[0]!.id, 'market-deadline-passed');
  assert.ok(r.sources.some((s) => s.id === 'market'), JSON.stringify(r.sources));
  assert.ok(r.actions.some((x) => x.command === 'cascade market refund 7'));
  assert.match(r.answer, /take your refund/);
  await a.close();
});
