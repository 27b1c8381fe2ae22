// Issue 65 item 2: a service a command cannot reach is one line on stderr — what, where, why, what to
// do — and exit 1. The chain verbs once printed viem's ten-line message twice (`chain: not started:
// …` and `cascade: the chain is not running: …`). The library's words come only with --verbose.
// The real CLI, as a child process, against ports where nothing listens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascade, runAll, startServe, type Run } from './node-process.ts';

/** A loopback port nothing listens on (one just closed): connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function oneLine(r: Run, argv: string[], line: string): void {
  const what = `cascade ${argv.join(' ')}`;
  assert.equal(r.code, 1, `${what}: ${r.stderr}`);
  assert.equal(r.stderr, `${line}\n`, `${what}: exactly this one line on stderr`);
}

const CONTRACTS = { chainId: 31337, registry: `0x${'1'.repeat(40)}`, rewards: `0x${'2'.repeat(40)}`, token: `0x${'3'.repeat(40)}` };
const IH = 'ab'.repeat(20);
const KEY = `0x${'5'.repeat(64)}`;

test('with no node, every verb says in one line which service it cannot reach and what to do', { timeout: 300_000 }, async (t) => {
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(CONTRACTS));
  const torrent = join(root, 'x.torrent');
  writeFileSync(join(root, 'x.bin'), 'some bytes to register');
  assert.equal((await cascade(['create', join(root, 'x.bin'), '-o', torrent])).code, 0);
  const state = join(root, 'state');
  const [rpcPort, redisPort, webPort, s3Port, gatewayPort] = [await closedPort(), await closedPort(), await closedPort(), await closedPort(), await closedPort()];
  // S3's credentials the standard way: present, so what fails is the endpoint.
  process.env.AWS_ACCESS_KEY_ID = 'cascade';
  process.env.AWS_SECRET_ACCESS_KEY = 'cascade-secret';
  const UNIXFS = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
  const rpc = `http://127.0.0.1:${rpcPort}/`;
  const chain = ['--chain-rpc', rpc, '--chain-contracts', contracts];
  const chainLine = `cascade: cannot reach the chain at ${rpc} (connection refused); start it or pass --chain-rpc`;
  const pg = 'postgres://cascade:hunter2@127.0.0.1:9/x';
  const dbLine = 'cascade: cannot reach the database at postgres://cascade:***@127.0.0.1:9/x (connection refused); start it or pass --database';
  const cases: [string[], string][] = [
    ...[['rewards'], ['rewards', 'claim'], ['verify', IH], ['register', torrent]].map((v): [string[], string] => [[...v, '--state-dir', state, ...chain], chainLine]),
    // verify with no state at all reads the registry straight from the chain.
    [['verify', IH, '--state-dir', join(root, 'none'), ...chain], chainLine],
    [['chain', 'deploy', '--chain-rpc', rpc, '--key', KEY], chainLine],
    // Port 9 (the example) is one fetch never connects to: nothing to start there.
    [['rewards', '--state-dir', state, '--chain-rpc', 'http://127.0.0.1:9/', '--chain-contracts', contracts],
      'cascade: cannot reach the chain at http://127.0.0.1:9/ (a port fetch never connects to); run it on another port and pass that with --chain-rpc'],
    ...[['list'], ['add', IH], ['settings'], ['users'], ['token'], ['cluster'], ['rewards'], ['register', torrent]].map((v): [string[], string] => [[...v, '--state-dir', state, '--database', pg], dbLine]),
    [['serve', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--no-chain', '--state-dir', state, '--database', pg], dbLine],
    [['tracker', '--http-port', '0', '--udp-port', '0', '--redis', `redis://127.0.0.1:${redisPort}`],
      `cascade: cannot reach Redis at redis://127.0.0.1:${redisPort} (connection refused); start it or pass --redis`],
    // Issue 61's stores: an S3 endpoint (seed --storage) and an IPFS gateway (download <UnixFS CID>).
    // Their own state dirs: the cases run at once, and a seed or download holds its state dir.
    [['seed', torrent, '--storage', 's3://bucket/films', '--s3-endpoint', `http://127.0.0.1:${s3Port}/`, '--port', '0', '--no-dht', '--no-chain', '--state-dir', join(root, 's3-state')],
      `cascade: cannot reach the S3 endpoint at http://127.0.0.1:${s3Port}/ (connection refused); start it or pass --s3-endpoint`],
    [['download', UNIXFS, '--ipfs-gateway', `http://127.0.0.1:${gatewayPort}/`, '-o', root, '--port', '0', '--no-dht', '--no-chain', '--state-dir', join(root, 'ipfs-state')],
      `cascade: cannot reach the IPFS gateway at http://127.0.0.1:${gatewayPort}/ (connection refused); start it or pass --ipfs-gateway`],
    [['download', `http://127.0.0.1:${webPort}/x.torrent`, '-o', root, '--state-dir', state],
      `cascade: cannot reach the server at http://127.0.0.1:${webPort}/x.torrent (connection refused); check the URL, or download the .torrent and give its path`],
  ];
  const runs = await runAll(cases.map(([argv]) => argv));
  // A download by UnixFS CID says first whom it asks (progress, not the error).
  for (const r of runs) r.stderr = r.stderr.replace(/^asking 1 IPFS gateway for \S+\n/, '');
  cases.forEach(([argv, line], i) => oneLine(runs[i]!, argv, line));
  assert.doesNotMatch(runs.map((r) => r.stderr + r.stdout).join(''), /hunter2/, 'a password is never shown');

  // The library's own words: behind --verbose, after the same line.
  const [verbose, json] = await runAll([[...cases[0]![0], '--verbose'], [...cases[0]![0], '--json', '--verbose']]);
  const lines = verbose!.stderr.trimEnd().split('\n');
  assert.equal(lines[0], chainLine);
  assert.match(lines.slice(1).join('\n'), /HTTP request failed[^]*Version: viem@[^]*ECONNREFUSED/);
  assert.equal(json!.code, 1);
  assert.equal(json!.json.event, 'error');
  assert.equal(json!.json.message, chainLine.slice('cascade: '.length));
  assert.match(json!.json.detail, /HTTP request failed/);
});

test("through a running node whose chain is away: the node's chain, in one line", { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(CONTRACTS));
  const rpc = `http://127.0.0.1:${await closedPort()}/`;
  const node = await startServe(t, { args: ['--chain-rpc', rpc, '--chain-contracts', contracts] });
  const line = `cascade: cannot reach the running node's chain at ${rpc} (connection refused); start it, or restart the node with another --chain-rpc`;
  // The node has tried its chain and found it away: run one after another, the first verb waited
  // that long; side by side on a loaded machine they could ask while it was still "starting".
  for (let i = 0; ; i++) {
    const state = ((await (await node.api('/api/health')).json()) as { chain?: { state?: string } }).chain?.state;
    if (state !== undefined && state !== 'starting') break;
    if (i > 600) assert.fail(`the node's chain still ${state} after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Four `cascade` processes side by side (the node answers each on its own): their wall time once.
  const argvs = [['rewards'], ['rewards', 'claim'], ['verify', IH], ['rewards', '--chain-rpc', rpc, '--chain-contracts', contracts]];
  const runs = await Promise.all(argvs.map((argv) => node.run(argv)));
  argvs.forEach((argv, i) => oneLine(runs[i]!, argv, line));
});

test('serve whose chain does not answer says so in one line, and keeps serving', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(CONTRACTS));
  const rpc = `http://127.0.0.1:${await closedPort()}/`;
  // Text mode: the note is for the person at the console (--json leaves notes out).
  const child = spawn(process.execPath, [join(import.meta.dirname, '../src/main.ts'), 'serve', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht',
    '--state-dir', join(root, 'state'), '--chain-rpc', rpc, '--chain-contracts', contracts], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off' } });
  t.after(() => void child.kill('SIGKILL'));
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (/chain: not started.*\n/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const line = `chain: not started: cannot reach the chain at ${rpc} (connection refused); start it or pass --chain-rpc`;
  assert.deepEqual(stderr.split('\n').filter((l) => /chain|viem|URL:|Request body|Details:|Version:/.test(l)), [line], stderr);
  assert.match(stdout, /Cascade is running/, 'the node serves on without its chain');
  child.kill('SIGTERM');
  await once(child, 'exit');
});

