// `cascade serve --metrics-token` / $CASCADE_METRICS_TOKEN (issue 21): Prometheus' credential reaches
// the node, reads GET /metrics and nothing else; a token that breaks the rule stops serve with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascade, startServe, NO_CHAIN } from './node-process.ts';

const TOKEN = 'prometheus-scrape-token-0123456789';

test('serve --metrics-token: the token reads /metrics only; the variable does the same', { timeout: 90_000 }, async (t) => {
  const node = await startServe(t, { args: ['--metrics-token', TOKEN, ...NO_CHAIN] });
  const asScraper = (path: string) => fetch(node.url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
  const res = await asScraper('/metrics');
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^cascade_torrents\{state="seeding"\} 0$/m);
  assert.equal((await asScraper('/api/torrents')).status, 401);
  assert.equal((await fetch(node.url + '/metrics')).status, 401);
  assert.equal((await node.api('/metrics')).status, 200, 'the API token reads it too');
  await node.stop();

  process.env.CASCADE_METRICS_TOKEN = TOKEN;
  try {
    const viaEnv = await startServe(t, { args: NO_CHAIN });
    assert.equal((await asScraperOf(viaEnv.url)).status, 200);
    await viaEnv.stop();
  } finally {
    delete process.env.CASCADE_METRICS_TOKEN;
  }
});

function asScraperOf(url: string): Promise<Response> {
  return fetch(url + '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
}

test('serve --metrics-token with a token too short: exit 1 naming the rule', { timeout: 30_000 }, async (t) => {
  const r = await cascade(['serve', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', join(tempDir(t), 'state'), '--metrics-token', 'short']);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stderr + r.stdout, /metrics token must be 16 to 256 characters/);
});
