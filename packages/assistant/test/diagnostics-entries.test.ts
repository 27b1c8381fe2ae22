// Every help entry a check cites exists in docs/help: a finding's "see also" must never point nowhere
// (the checks and the knowledge base are written apart; this keeps them in step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const diagDir = fileURLToPath(new URL('../src/diagnostics/', import.meta.url));
const helpDir = fileURLToPath(new URL('../../../docs/help/', import.meta.url));

test('the help entries the diagnostics cite all exist', () => {
  const known = new Set(readdirSync(helpDir).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)));
  const cited = new Set<string>();
  for (const f of readdirSync(diagDir).filter((x) => x.endsWith('.ts'))) {
    const src = readFileSync(diagDir + f, 'utf8');
    for (const m of src.matchAll(/entries: \[([^\]]*)\]/g)) for (const id of m[1]!.matchAll(/'([a-z0-9-]+)'/g)) cited.add(id[1]!);
  }
  assert.ok(cited.size >= 10, `only ${cited.size} entries cited: did the source layout change?`);
  const missing = [...cited].filter((id) => !known.has(id));
  assert.deepEqual(missing, [], `cited by a check but not in docs/help: ${missing.join(', ')}`);
});
