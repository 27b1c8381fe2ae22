// Settings → Users with roles (issue 44): the owner adds a viewer and an admin, changes a role,
// rotates the API token (the old one is refused at once, the new one shown works) and hands ownership
// to the admin with "Make owner"; the page then shows it as an admin, and the new owner's browser
// as the owner. Chromium on 127.0.0.1 (shared/browser-webrtc.md).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildUi, collectErrors, launchBrowser, meOf, nodeFetch, openAsOwner, signInWithKey, startTestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

test('Settings → Users: roles, token rotation and ownership transfer', { timeout: 240_000 }, async (t) => {
  const node = await startTestServer(t);
  const a = await (await launchBrowser(t)).newPage();
  const errors = collectErrors(a);
  a.on('dialog', (d) => void d.accept());
  await openAsOwner(a, node.url);

  const b = await (await launchBrowser(t)).newPage();
  const didB = (await signInWithKey(b, node.url)).did!;
  const viewerDid = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';

  await a.getByTestId('nav-settings').click();
  const users = a.getByTestId('users-section');
  await users.locator('[data-testid=user-row][data-role=owner]').waitFor();
  await users.getByTestId('user-add-input').fill(viewerDid);
  await users.getByTestId('user-add-role').selectOption('viewer');
  await users.getByTestId('user-add').click();
  await users.locator(`[data-testid=user-row][data-id="${viewerDid}"][data-role=viewer]`).waitFor();
  await users.getByTestId('user-add-input').fill(didB);
  await users.getByTestId('user-add-role').selectOption('member');
  await users.getByTestId('user-add').click();
  const rowB = users.locator(`[data-testid=user-row][data-id="${didB}"]`);
  await rowB.and(a.locator('[data-role=member]')).waitFor();
  await rowB.getByTestId('user-role').selectOption('admin');
  await users.locator(`[data-testid=user-row][data-id="${didB}"][data-role=admin]`).waitFor();
  // Once a member, a page stops polling who it is (auth.ts): a load shows the new role.
  await b.reload();
  await b.locator('[data-testid=whoami].role-admin').waitFor({ timeout: 20_000 });

  const oldToken = node.server.token;
  await users.getByTestId('token-rotate').click();
  const shown = (await users.getByTestId('token-new').locator('code').innerText()).trim();
  assert.notEqual(shown, oldToken);
  assert.equal(shown, node.server.token);
  assert.equal((await fetch(`${node.url}/api/torrents`, { headers: { authorization: `Bearer ${oldToken}` } })).status, 401, 'the old token is refused at once');
  assert.equal((await nodeFetch(node, '/api/torrents')).status, 200);

  await users.locator(`[data-testid=user-row][data-id="${didB}"]`).getByTestId('user-make-owner').click();
  await a.locator('[data-testid=whoami].role-admin').waitFor({ timeout: 20_000 });
  assert.equal((await meOf(a)).role, 'admin');
  await b.reload();
  await b.locator('[data-testid=whoami].role-owner').waitFor({ timeout: 20_000 });
  const list = (await (await nodeFetch(node, '/api/users')).json()) as { users: { id: string; role: string }[] };
  assert.equal(list.users.find((u) => u.role === 'owner')?.id, didB);
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});
