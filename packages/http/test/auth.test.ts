// Sign-in and authorization of the node's API, as an attacker would try it: no credentials, a
// visitor's session, a wrong token, a cookie sent from another origin or site, a rebound Host, a
// replayed, expired, misdirected or forged sign-in. Real server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { generateIdentity, makeBinding, signSignIn, type Identity } from '@cascade/identity';
import { startTestServer, formWith, claimCodeOf, type TestServer } from './server-helpers.ts';
import { SignInService } from '../src/auth/sign-in.ts';

/** Signs in with a did:key through the real routes; returns the Cookie header value. */
async function signIn(s: TestServer, id: Identity, opts: { binding?: boolean } = {}): Promise<string> {
  const c = await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: { method: 'did', did: id.did } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const v = await s.json('/api/auth/verify', {
    method: 'POST',
    anonymous: true,
    json: { message: c.body.message, signature: signSignIn(id, c.body.message), ...(opts.binding ? { binding: makeBinding(id) } : {}) },
  });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const set = v.res.headers.get('set-cookie') ?? '';
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  return set.split(';')[0]!;
}

const asCookie = (cookie: string, extra: Record<string, string> = {}) => ({ headers: { cookie, ...extra } });

/** Claims the fresh node for this session with the code from the state dir. */
async function claim(s: TestServer, cookie: string): Promise<{ status: number; body: any }> {
  return s.json('/api/auth/claim', { method: 'POST', headers: { cookie, origin: s.url }, json: { code: claimCodeOf(s) } });
}

/** Every route in the node's OpenAPI document, with a concrete path. */
async function apiRoutes(s: TestServer): Promise<{ method: string; path: string }[]> {
  const doc = (await s.json('/api/docs/json', { anonymous: true })).body as { paths: Record<string, Record<string, unknown>> };
  const out: { method: string; path: string }[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      const concrete = path.replace('{infoHash}', 'a'.repeat(40)).replace('{index}', '0').replace('{id}', 'did:key:z6Mkk');
      out.push({ method: method.toUpperCase(), path: concrete });
    }
  }
  return out;
}

const PUBLIC = new Set(['POST /api/auth/challenge', 'POST /api/auth/verify', 'POST /api/auth/logout', 'GET /api/auth/me', 'GET /api/health',
  // readiness for balancers and probes (routes/readiness.ts): the reason's detail for members only
  'GET /api/health/ready',
  // the built-in tracker, public on its own port, answers on the web port too (routes/announce.ts);
  // /ice-servers gives its STUN address only (serve's tracker mints no TURN credentials)
  'GET /announce', 'GET /scrape', 'GET /ice-servers']);
/** Routes for anyone signed in, visitors too. */
const SIGNED_IN = new Set(['POST /api/auth/claim', 'GET /api/identity']);

type Role = 'visitor' | 'viewer' | 'member' | 'admin' | 'owner';
const RANK: Record<Role, number> = { visitor: 0, viewer: 1, member: 2, admin: 3, owner: 4 };
const ONE = 'a'.repeat(40);
/**
 * The roles table of docs/identity.md, as the weakest role each route takes. Owner only: node-wide
 * settings decide where files land on the owner's machine; a registration puts the node's account on
 * chain as the torrent's publisher, and the market's sales and purchases spend its account; ownership and
 * the token are the owner's. Admins manage members
 * and viewers. Reads are a viewer's, except those that spend the node's resources or show people
 * (or the cluster's members: their addresses and figures).
 * Everything else (every change) is a member's.
 */
const WEAKEST: Record<string, Role> = {
  'PATCH /api/settings': 'owner',
  [`POST /api/torrents/${ONE}/register`]: 'owner',
  'POST /api/users/transfer-owner': 'owner',
  'POST /api/token/rotate': 'owner',
  'POST /api/users': 'admin',
  'DELETE /api/users/did:key:z6Mkk': 'admin',
  'GET /api/users': 'member',
  'GET /api/chat/contacts': 'member',
  'GET /api/search': 'member',
  'GET /api/cluster': 'member',
  [`GET /api/torrents/${ONE}/files/0`]: 'member',
  // The market spends the node's account (issue 62): selling, buying, delisting, refunds, deliveries.
  'POST /api/market/listings': 'owner',
  'POST /api/market/listings/did:key:z6Mkk/buy': 'owner',
  'DELETE /api/market/listings/did:key:z6Mkk': 'owner',
  'POST /api/market/orders/did:key:z6Mkk/refund': 'owner',
  'POST /api/market/deliver': 'owner',
};
const weakest = (method: string, path: string): Role => WEAKEST[`${method} ${path}`] ?? (method === 'GET' || method === 'HEAD' ? 'viewer' : 'member');

test('every protected route, per role: 401 without credentials, 403 below its role, allowed at or above it (and with the token)', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t);
  const cookies = {} as Record<Role, string>;
  for (const role of ['visitor', 'viewer', 'member', 'admin', 'owner'] as Role[]) cookies[role] = await signIn(s, generateIdentity(role));
  const ids = new Map<Role, string>();
  for (const role of ['viewer', 'member', 'admin'] as Role[]) {
    const me = (await s.json('/api/auth/me', asCookie(cookies[role]))).body;
    ids.set(role, me.did);
    assert.equal((await s.json('/api/users', { method: 'POST', json: { id: me.did, role } })).status, 201, role);
  }
  assert.equal((await claim(s, cookies.owner)).status, 200);

  const routes = (await apiRoutes(s)).filter((r) => !PUBLIC.has(`${r.method} ${r.path}`) && !r.path.startsWith('/api/docs'));
  assert.ok(routes.length >= 14, `only ${routes.length} routes in the API document`);
  for (const must of ['GET /api/identity', 'POST /api/users/transfer-owner', 'POST /api/token/rotate', 'GET /api/torrents']) {
    assert.ok(routes.some((r) => `${r.method} ${r.path}` === must), must);
  }
  for (const r of routes) {
    const label = `${r.method} ${r.path}`;
    const body = r.method === 'GET' || r.method === 'HEAD' ? {} : { json: {} };
    const anon = await s.json(r.path, { method: r.method, anonymous: true, ...body });
    assert.equal(anon.status, 401, `${label} without credentials: ${anon.status}`);
    assert.equal(anon.body.statusCode, 401);
    assert.match(anon.body.message, /sign in/);
    const bad = await s.json(r.path, { method: r.method, ...body, headers: { authorization: 'Bearer wrong' } });
    assert.equal(bad.status, 401, `${label} with a wrong token`);
    if (SIGNED_IN.has(label)) continue;
    const need = weakest(r.method, r.path);
    for (const role of Object.keys(RANK) as Role[]) {
      const res = await s.json(r.path, { method: r.method, ...body, headers: { cookie: cookies[role], origin: s.url } });
      if (RANK[role] >= RANK[need]) {
        // Past the gate, the route itself answers (404 for the made-up infohash, 400 for a bad body…).
        assert.ok(![401, 403].includes(res.status), `${label} as ${role}: ${res.status} ${JSON.stringify(res.body)}`);
      } else {
        assert.equal(res.status, 403, `${label} as ${role} (needs ${need}): ${res.status}`);
        const why = need === 'owner' ? /only the node’s owner may/ : need === 'admin' ? /owner and admins/ : role === 'viewer' ? /viewer may only read/ : /owner and members/;
        assert.match(res.body.message, why, label);
      }
    }
    // The API token holds owner rights.
    const ok = await s.json(r.path, { method: r.method, ...body });
    assert.ok(![401, 403].includes(ok.status), `${label} with the token: ${ok.status} ${JSON.stringify(ok.body)}`);
  }

  // /api/health is public; its private part (ids, paths, TURN secrets) is for members and stronger
  // roles: an admin too (it saw the visitor's view before), not a viewer.
  for (const role of Object.keys(RANK) as Role[]) {
    const h = await s.json('/api/health', asCookie(cookies[role]));
    assert.equal(h.status, 200, role);
    assert.equal(typeof h.body.nodeId === 'string', RANK[role] >= RANK.member, `${role} sees the private part: ${typeof h.body.nodeId}`);
  }

  // A member really uses the node: add a torrent, list it; a viewer sees it and cannot change it;
  // the visitor sees nothing of it.
  const up = await s.request('/api/torrents', { method: 'POST', body: formWith([['a.txt', 'member upload']]), headers: { cookie: cookies.member, origin: s.url } });
  assert.equal(up.status, 201);
  const list = await s.json('/api/torrents', asCookie(cookies.viewer));
  assert.equal(list.body.torrents.length, 1);
  const ih = list.body.torrents[0].infoHash as string;
  assert.equal((await s.json(`/api/torrents/${ih}/pause`, { method: 'POST', headers: { cookie: cookies.viewer, origin: s.url } })).status, 403);
  assert.equal((await s.json('/api/torrents', asCookie(cookies.visitor))).status, 403);
  const me = await s.json('/api/auth/me', asCookie(cookies.visitor));
  assert.deepEqual([me.body.signedIn, me.body.role], [true, 'visitor']);

  // Admins manage members and viewers, not admins (nor the owner); members manage nobody.
  const newcomer = generateIdentity('newcomer').did;
  const asAdmin = { cookie: cookies.admin, origin: s.url };
  assert.equal((await s.json('/api/users', { method: 'POST', headers: { cookie: cookies.member, origin: s.url }, json: { id: newcomer } })).status, 403, 'a member adds nobody');
  assert.equal((await s.json('/api/users', { method: 'POST', headers: asAdmin, json: { id: newcomer, role: 'viewer' } })).status, 201);
  assert.equal((await s.json('/api/users', { method: 'POST', headers: asAdmin, json: { id: newcomer, role: 'member' } })).body.user.role, 'member', 'an admin changes a role');
  assert.equal((await s.json('/api/users', { method: 'POST', headers: asAdmin, json: { id: newcomer, role: 'admin' } })).status, 403, 'an admin makes no admins');
  assert.equal((await s.json(`/api/users/${ids.get('admin')}`, { method: 'DELETE', headers: asAdmin })).status, 403, 'an admin removes no admin');
  assert.equal((await s.json(`/api/users/${newcomer}`, { method: 'DELETE', headers: asAdmin })).status, 200);
  assert.equal((await s.json(`/api/users/${ids.get('viewer')}`, { method: 'DELETE', headers: { cookie: cookies.member, origin: s.url } })).status, 403, 'a member removes nobody');
});

test('health is public but tells strangers only about reachability', async (t) => {
  const s = await startTestServer(t);
  const anon = await s.json('/api/health', { anonymous: true });
  assert.equal(anon.status, 200);
  assert.equal(anon.body.ok, true);
  assert.ok(anon.body.reachability);
  for (const secret of ['peerId', 'nodeId', 'stateDir', 'downloadDir', 'torrents', 'peers']) assert.equal(anon.body[secret], undefined, secret);
  // The built-in tracker is public: a visitor's in-tab peer announces to its WebSocket URL.
  assert.match(anon.body.tracker.ws, /^ws:\/\/127\.0\.0\.1:\d+/);
  const full = await s.json('/api/health');
  assert.equal(full.body.stateDir, s.node.db.stateDir);
});

test('a cookie never authorises a request from another origin or site, and a rebound Host is refused', { timeout: 30_000 }, async (t) => {
  const s = await startTestServer(t);
  const owner = generateIdentity('owner');
  const cookie = await signIn(s, owner);
  assert.equal((await claim(s, cookie)).body.role, 'owner');
  const pause = `/api/torrents/${'a'.repeat(40)}/pause`;
  // Same origin: past the gate (404: no such torrent).
  assert.equal((await s.json(pause, { method: 'POST', headers: { cookie, origin: s.url } })).status, 404);
  // Another port of the same host is same-site: SameSite=Strict still sends the cookie.
  const other = s.url.replace(/:\d+$/, ':1');
  const cross = await s.json(pause, { method: 'POST', headers: { cookie, origin: other } });
  assert.equal(cross.status, 403);
  // No Origin at all on a cookie-authorised change (a form or tool that hides it).
  assert.equal((await s.json(pause, { method: 'POST', headers: { cookie } })).status, 403);
  // Reads marked by the browser as coming from another site (an <img>/<video> on a local page).
  for (const site of ['same-site', 'cross-site']) {
    assert.equal((await s.json('/api/torrents', { headers: { cookie, 'sec-fetch-site': site } })).status, 403, site);
  }
  assert.equal((await s.json('/api/torrents', { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status, 200);

  // DNS rebinding: evil.example resolved to 127.0.0.1; the browser sends Host: evil.example.
  const port = Number(new URL(s.url).port);
  for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/torrents', headers: { host, cookie } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403, host);
  }
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
    assert.equal(await new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/api/auth/me', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    }), 200, host);
  }
});

test('sign-in: replayed, misdirected, forged and mismatched signatures are refused; sign-out ends the session', { timeout: 30_000 }, async (t) => {
  const dev = 'http://dev.example:5173';
  const s = await startTestServer(t, { allowedOrigins: [dev] });
  const alice = generateIdentity('alice');
  const mallory = generateIdentity('mallory');
  const challenge = async (did: string, headers: Record<string, string> = {}) =>
    (await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, headers, json: { method: 'did', did } })).body as { message: string; nonce: string };
  const verify = (json: unknown, headers: Record<string, string> = {}) => s.json('/api/auth/verify', { method: 'POST', anonymous: true, headers, json });

  const c = await challenge(alice.did);
  const sig = signSignIn(alice, c.message);
  assert.equal((await verify({ message: c.message, signature: sig })).status, 200);
  const replay = await verify({ message: c.message, signature: sig });
  assert.equal(replay.status, 401, 'a replayed signature');
  assert.match(replay.body.message, /already used/);

  const c2 = await challenge(alice.did);
  assert.equal((await verify({ message: c2.message, signature: signSignIn(mallory, c2.message) })).status, 401, 'signed by another key');
  assert.equal((await verify({ message: c2.message, signature: signSignIn(alice, c2.message) })).status, 401, 'the failed try spent the nonce');

  const c3 = await challenge(alice.did);
  const edited = c3.message.replace(alice.did, mallory.did);
  assert.equal((await verify({ message: edited, signature: signSignIn(mallory, edited) })).status, 401, 'an edited message');

  // A challenge issued to the node's page, answered from another (allowed) origin: refused.
  const c4 = await challenge(alice.did, { origin: dev });
  assert.equal((await verify({ message: c4.message, signature: signSignIn(alice, c4.message) }, { origin: s.url })).status, 401, 'another origin');

  // A binding about someone else does not widen the session.
  const c5 = await challenge(alice.did);
  const r5 = await verify({ message: c5.message, signature: signSignIn(alice, c5.message), binding: makeBinding(mallory) });
  assert.equal(r5.status, 401);

  for (const bad of [{}, { message: 1, signature: 2 }, { message: 'hello', signature: 'x' }, { message: 'x'.repeat(10_000), signature: 'y' }]) {
    const r = await verify(bad);
    assert.ok(r.status === 400, `${JSON.stringify(bad).slice(0, 40)} → ${r.status}`);
  }
  for (const bad of [{}, { method: 'password' }, { method: 'did', did: 'did:key:nope' }, { method: 'siwe', address: '0x12' }, { method: 'siwe', address: '0x' + '1'.repeat(40), chainId: -1 }]) {
    assert.equal((await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: bad })).status, 400, JSON.stringify(bad));
  }

  // With the did's own binding, the session carries the account too.
  const cookie = await signIn(s, alice, { binding: true });
  const me = (await s.json('/api/auth/me', asCookie(cookie))).body;
  assert.equal(me.address, alice.address.toLowerCase());
  assert.equal((await s.json('/api/auth/logout', { method: 'POST', headers: { cookie, origin: s.url } })).status, 200);
  const after = (await s.json('/api/auth/me', asCookie(cookie))).body;
  assert.equal(after.signedIn, false);
});

test('an expired challenge is refused (the service on a clock the test moves)', async () => {
  let now = Date.parse('2026-11-23T10:00:00Z');
  const svc = new SignInService(generateIdentity('node').did, () => now);
  const alice = generateIdentity('alice');
  const c = await svc.challenge({ method: 'did', did: alice.did }, 'http://127.0.0.1:8080', '127.0.0.1:8080');
  now += 5 * 60 * 1000 + 1;
  await assert.rejects(() => svc.verify({ message: c.message, signature: signSignIn(alice, c.message) }, 'http://127.0.0.1:8080'), /expired/);
  // Anyone may ask for challenges: the pending set stays bounded.
  for (let i = 0; i < 10_050; i++) await svc.challenge({ method: 'did', did: alice.did }, 'http://x', 'x');
  assert.ok(svc.pendingCount <= 10_000);
});

test('Sign-In with Ethereum (EIP-4361) with a viem account; membership by address; first-run claim; users', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const account = privateKeyToAccount(generatePrivateKey());
  const c = await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: { method: 'siwe', address: account.address, chainId: 31337 } });
  assert.equal(c.status, 200);
  assert.match(c.body.message, /wants you to sign in with your Ethereum account/);
  assert.match(c.body.message, new RegExp(`Nonce: ${c.body.nonce}`));
  const forged = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: c.body.message });
  assert.equal((await s.json('/api/auth/verify', { method: 'POST', anonymous: true, json: { message: c.body.message, signature: forged } })).status, 401);
  const c2 = await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: { method: 'siwe', address: account.address } });
  const v = await s.json('/api/auth/verify', { method: 'POST', anonymous: true, json: { message: c2.body.message, signature: await account.signMessage({ message: c2.body.message }) } });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.equal(v.body.address, account.address.toLowerCase());
  assert.equal(v.body.role, 'visitor');
  const cookie = v.res.headers.get('set-cookie')!.split(';')[0]!;

  // The owner (here the token) adds the address; the same session is a member at once.
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: account.address } })).status, 201);
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: account.address.toLowerCase() } })).status, 200, 'added twice: existing');
  assert.equal((await s.json('/api/torrents', asCookie(cookie))).status, 200);
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: 'root' } })).status, 400);
  assert.equal((await s.json('/api/users/nobody', { method: 'DELETE' })).status, 400);

  // First run: a signed-in browser with the claim code claims the node; nobody can claim it again.
  const owner = generateIdentity('owner');
  const ownerCookie = await signIn(s, owner);
  assert.equal((await s.json('/api/auth/me', asCookie(ownerCookie))).body.claimable, true);
  assert.equal((await s.json('/api/auth/claim', { method: 'POST', anonymous: true, headers: { origin: s.url } })).status, 401);
  assert.equal((await claim(s, ownerCookie)).status, 200);
  assert.equal((await s.json('/api/auth/claim', { method: 'POST', headers: { cookie, origin: s.url }, json: { code: 'AAAA-AAAA-AAAA-AAAA' } })).status, 409);
  const users = (await s.json('/api/users', asCookie(cookie))).body.users as { id: string; role: string }[];
  assert.deepEqual(users.map((u) => [u.id, u.role]), [[owner.did, 'owner'], [account.address.toLowerCase(), 'member']]);
  assert.equal((await s.json(`/api/users/${owner.did}`, { method: 'DELETE', headers: { cookie, origin: s.url } })).status, 403, 'the owner stays');
  const id = (await s.json('/api/identity', asCookie(ownerCookie))).body;
  assert.deepEqual([id.did, id.address, id.user.role], [s.identity.did, s.identity.address, 'owner']);

  // Removing the member takes its access away on its next request.
  assert.equal((await s.json(`/api/users/${account.address}`, { method: 'DELETE' })).status, 200);
  assert.equal((await s.json('/api/torrents', asCookie(cookie))).status, 403);
});

test('sessions: kept across a restart of the store, ended by sign-out', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { StateDB } = await import('@cascade/node');
  const { AuthStore } = await import('@cascade/node');
  const dir = mkdtempSync(join(tmpdir(), 'cascade-sessions-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let db = await StateDB.open(dir);
  const token = await new AuthStore(db).createSession({ did: 'did:key:z6Mkx', address: null });
  await db.close();
  db = await StateDB.open(dir);
  const store = new AuthStore(db);
  assert.equal((await store.session(token))?.did, 'did:key:z6Mkx', 'survives a restart');
  assert.equal(await store.session(token + 'x'), undefined);
  assert.equal(await store.session(token, Date.now() + 31 * 24 * 3600 * 1000), undefined, 'expires');
  // Their number is bounded: store-cases/auth.ts (on SQLite and PostgreSQL).
  await store.endSession(token);
  assert.equal(await store.session(token), undefined);
  await db.close();
});
