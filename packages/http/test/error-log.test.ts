// A genuine fault (a 500) says "the node's log has the details": it must be true of the node's own
// log, which is what `serve` keeps (Fastify's logger is off there). Found by bench:cluster, whose
// 500s left no trace. The route's pattern is logged, never the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeLog } from '@cascade/node';
import { startTestServer } from './server-helpers.ts';

test("a 500 is written to the node's log with its route pattern and the error, not the URL", async (t) => {
  const events: { name: string; fields: Record<string, unknown> }[] = [];
  const log: NodeLog = { event: (name, fields = {}) => void events.push({ name, fields }), say() {}, note() {} };
  const s = await startTestServer(t, { log });
  await s.ready;
  // The state store closed under the node (SQLite: "database is not open"): a fault, not an outage.
  await s.node.db.store.close();
  const r = await s.json('/api/categories', { method: 'POST', json: { name: 'secret-name' } });
  assert.equal(r.status, 500, JSON.stringify(r.body));
  assert.match(r.body.message, /the node's log has the details/);
  const failed = events.filter((e) => e.name === 'request failed');
  assert.equal(failed.length, 1, JSON.stringify(events.map((e) => e.name)));
  assert.deepEqual([failed[0]!.fields.method, failed[0]!.fields.route, failed[0]!.fields.status], ['POST', '/api/categories', 500]);
  assert.match(String(failed[0]!.fields.error), /\w/);
});
