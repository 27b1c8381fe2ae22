// The swarm lab (bench/swarm-lab, issue 60) at N = 6: a seed and six downloaders, each in its own
// network namespace on one bridge, every link capped by tbf, a neutral tracker. One swarm of Cascade
// peers only (receipts and the embedded chain on, as users run it) and one mixed swarm (Cascade and
// python3-libtorrent, half and half, a libtorrent seed). Asserts that every downloader completes with
// the right bytes (sha256) and that none stalls; not speed (the benchmark holds the targets). Needs
// root (`npm test` runs as root): it fails, with the reason, without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireLabTools } from '../../bench/swarm-lab/lab.ts';
import { figures } from '../../bench/swarm-lab/metrics.ts';
import { heterogeneousUps, makeData, runSwarm, type ClientMix, type Data, type SwarmResult } from '../../bench/swarm-lab/swarm.ts';

requireLabTools();
const lt = spawnSync('/usr/bin/python3', ['-c', 'import libtorrent'], { encoding: 'utf8' });
if (lt.status !== 0) throw new Error(`python3-libtorrent is not importable from /usr/bin/python3 (apt-get install python3-libtorrent): ${lt.stderr}`);

const N = 6;
const SIZE = 8 * 2 ** 20;

let data: Data | undefined;
let root: string | undefined;
async function fixture(): Promise<Data> {
  root ??= await mkdtemp(join(tmpdir(), 'swarm-lab-test-'));
  data ??= await makeData(root, SIZE);
  return data;
}
test.after(async () => { if (root) await rm(root, { recursive: true, force: true }); });

async function swarm(clients: ClientMix, noChain: boolean): Promise<SwarmResult> {
  return runSwarm({
    scenario: 'flash', clients, ups: heterogeneousUps(N), seedUp: 4e6, down: 8e6,
    arrivalGapMs: 0, leaveOnComplete: false, seedDelayMs: 0, seedLeaves: false, noChain, mixedSeed: 'lt',
    timeoutMs: 150_000, sampleMs: 250, trackerInterval: 60,
  }, await fixture());
}

function check(r: SwarmResult): void {
  const f = figures(r);
  const peers = r.peers.slice(1).map((p) => `p${p.peer.index} ${p.client} done ${p.doneAt ?? '—'} ms progress ${p.progress.toFixed(2)}${p.doneAt === undefined ? ` stderr: ${p.stderr.slice(-800)}` : ''}`).join('\n');
  assert.deepEqual(r.errors, [], `the swarm did not complete:\n${peers}`);
  for (const p of r.peers.slice(1)) {
    assert.ok(p.doneAt !== undefined, `p${p.peer.index} (${p.client}) never completed:\n${peers}`);
    assert.ok(r.verified[p.peer.index], `p${p.peer.index} (${p.client}) has the wrong bytes (sha256 differs)`);
  }
  assert.equal(f.complete, N);
  assert.equal(f.stalls, 0, `a peer stalled (10 s without progress while another had what it lacked): ${f.peers.filter((p) => p.stalls).map((p) => `p${p.index} ${p.longestStall.toFixed(1)} s`).join(', ')}`);
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`${r.labId}-`));
  assert.deepEqual(left, [], 'the lab removed its namespaces');
}

test('swarm lab, N = 6: Cascade peers only (receipts on) all complete with the right bytes and none stalls', { timeout: 300_000 }, async () => {
  check(await swarm('cascade', false));
});

test('swarm lab, N = 6: a mixed swarm (3 Cascade, 3 libtorrent, libtorrent seed) all complete with the right bytes and none stalls', { timeout: 300_000 }, async () => {
  const r = await swarm('mixed', true);
  assert.deepEqual(r.peers.map((p) => p.client), ['lt', 'cascade', 'lt', 'lt', 'cascade', 'cascade', 'lt']);
  check(r);
});
