// `--ice-server` on the command line (issue 23, point 3): serve stores the servers as the iceServers
// setting (TURN user and password percent-decoded out of the URL), `cascade settings` shows and
// changes them, and a malformed URL is a usage error before anything starts. Nothing here is dialled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cascade, okHere, startServe, NO_CHAIN } from './node-process.ts';

test('serve --ice-server: kept as the iceServers setting; cascade settings reads and replaces it', { timeout: 90_000 }, async (t) => {
  const node = await startServe(t, { args: ['--ice-server', 'stun:127.0.0.2:3478', '--ice-server', 'turn:al%3Aice:p%40ss@127.0.0.3:3478?transport=tcp', ...NO_CHAIN] });
  const shown = (await okHere(node, ['settings', 'iceServers', '--json'])).json;
  assert.deepEqual(shown.value, [
    { urls: ['stun:127.0.0.2:3478'] },
    { urls: ['turn:127.0.0.3:3478?transport=tcp'], username: 'al:ice', credential: 'p@ss' },
  ]);
  await okHere(node, ['settings', 'iceServers', '[{"urls":"stun:127.0.0.4:3478"}]']);
  const after = (await okHere(node, ['settings', 'iceServers', '--json'])).json;
  assert.deepEqual(after.value, [{ urls: ['stun:127.0.0.4:3478'] }]);
  // The URL form works there too.
  await okHere(node, ['settings', 'iceServers', 'stun:127.0.0.5:3478,turn:u:p@127.0.0.6:3478']);
  assert.deepEqual((await okHere(node, ['settings', 'iceServers', '--json'])).json.value, [
    { urls: ['stun:127.0.0.5:3478'] },
    { urls: ['turn:127.0.0.6:3478'], username: 'u', credential: 'p' },
  ]);
  const bad = await node.here(['settings', 'iceServers', '[{"urls":"turn:127.0.0.3"}]']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr + bad.stdout, /TURN server: it needs "username" and "credential"/);
});

test('a malformed --ice-server is a usage error that names it', async () => {
  for (const [url, why] of [
    ['turn:127.0.0.3:3478', /give its user and password as turn:USER:PASSWORD@127\.0\.0\.3:3478/],
    ['http://127.0.0.3', /not a stun:, stuns:, turn: or turns: URL/],
    ['stun:127.0.0.3:99999', /port outside 1-65535/],
  ] as const) {
    const r = await cascade(['serve', '--ice-server', url, '--state-dir', '/nonexistent-cascade-state']);
    assert.equal(r.code, 2, `${url}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
});
