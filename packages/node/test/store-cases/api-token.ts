// The API token beside the state (node-state/src/api-token.ts): on PostgreSQL the state's token is the one
// every node on it takes (the first stores its file's; a later one adopts it and rewrites its file),
// and a rotation is stored there; on SQLite the file stays the only home, as before.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiToken, apiTokenPath } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function apiTokenCases(t: TestContext, open: Open): Promise<void> {
  await t.test('API token (node-state/src/api-token.ts): one for every node on a PostgreSQL state, its file a copy; SQLite keeps the file', async (t) => {
    const s = await open(t);
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'cascade-token-')));
    t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const [a, b] = dirs.map((d) => new ApiToken(d));
    assert.notEqual(a!.value, b!.value, 'two state dirs, two files');
    await a!.useStore(s);
    const first = a!.value;
    await b!.useStore(s);
    const file = (d: string) => readFileSync(apiTokenPath(d), 'utf8').trim();
    if (s.dialect === 'postgres') assert.deepEqual([b!.value, file(dirs[1]!)], [first, first], 'b took the token a stored, into its file too');
    else assert.notEqual(b!.value, first);
    const rotated: string[] = [];
    b!.onRotate((v) => rotated.push(v));
    const fresh = await a!.rotate();
    const stored = await s.get<{ token: string }>('SELECT token FROM api_token WHERE id = 1');
    if (s.dialect === 'postgres') {
      assert.equal(stored?.token, fresh, 'a rotation is stored');
      const c = new ApiToken(dirs[1]!);
      await c.useStore(s);
      assert.equal(c.value, fresh, 'the next start takes the rotated token');
      assert.equal(file(dirs[1]!), fresh, 'and its file follows');
    } else {
      assert.equal(stored, undefined, 'SQLite keeps no token in the state');
      assert.equal(file(dirs[0]!), fresh);
      assert.notEqual(b!.value, fresh, 'another state dir keeps its own');
    }
  });
}
