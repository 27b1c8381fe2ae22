import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { parseCommandLine, checkHostPort, DEFAULT_PORT, COMMANDS, usageText } from '../src/parse/args.ts';
import { UsageError } from '../src/core/errors.ts';

const env = { CASCADE_HOME: '/tmp/cascade-home' };

test('download: repeated --peer, -o, --seed, --timeout, node options', () => {
  const inv = parseCommandLine(
    ['download', 'magnet:?xt=urn:btih:' + 'a'.repeat(40), '-o', '/tmp/dl', '--peer', '127.0.0.1:6881', '--peer', '[::1]:7000',
      '--seed', '--timeout', '30', '--port', '0', '--no-dht', '--no-utp', '--tracker', 'http://127.0.0.1:8000/announce', '--json'],
    env,
  );
  assert.equal(inv.command, 'download');
  assert.deepEqual(inv.positionals, ['magnet:?xt=urn:btih:' + 'a'.repeat(40)]);
  const o = inv.options;
  assert.equal(o.output, '/tmp/dl');
  assert.deepEqual(o.peers, ['127.0.0.1:6881', '[::1]:7000']);
  assert.equal(o.seed, true);
  assert.equal(o.timeout, 30);
  assert.equal(o.port, 0);
  assert.equal(o.dht, false);
  assert.equal(o.utp, false);
  assert.deepEqual(o.trackers, ['http://127.0.0.1:8000/announce']);
  assert.equal(o.json, true);
  assert.equal(o.stateDir, '/tmp/cascade-home');
});

test('defaults: port 6881, DHT on, state dir from $CASCADE_HOME or ~/.cascade', () => {
  const o = parseCommandLine(['serve'], {}).options;
  assert.equal(o.port, DEFAULT_PORT);
  assert.equal(o.dht, true);
  assert.equal(o.utp, true, 'uTP beside TCP unless --no-utp');
  assert.equal(o.json, false);
  assert.equal(o.stateDir, join(homedir(), '.cascade'));
  assert.equal(parseCommandLine(['serve'], env).options.stateDir, '/tmp/cascade-home');
  assert.equal(parseCommandLine(['serve', '--state-dir', '/tmp/x'], env).options.stateDir, '/tmp/x');
});

test('create: repeated --announce/--webseed, --piece-length with suffix, --private', () => {
  const o = parseCommandLine(
    ['create', 'data', '-o', 'out.torrent', '--announce', 'http://a/ann', '--announce', 'udp://b:1/ann',
      '--piece-length', '256k', '--private', '--webseed', 'http://c/files/'],
    env,
  ).options;
  assert.equal(o.output, 'out.torrent');
  assert.deepEqual(o.announce, ['http://a/ann', 'udp://b:1/ann']);
  assert.equal(o.pieceLength, 262144);
  assert.equal(o.private, true);
  assert.deepEqual(o.webseeds, ['http://c/files/']);
});

test('--dht-bootstrap takes comma lists and repeats', () => {
  const o = parseCommandLine(['seed', 'x.torrent', '--dir', '.', '--dht-bootstrap', '127.0.0.1:1,127.0.0.1:2', '--dht-bootstrap', 'h:3'], env)
    .options;
  assert.deepEqual(o.dhtBootstrap, ['127.0.0.1:1', '127.0.0.1:2', 'h:3']);
  assert.equal(o.dir, '.');
});

test('global options may precede the command', () => {
  const inv = parseCommandLine(['--json', '--state-dir', '/tmp/s', 'list'], env);
  assert.equal(inv.command, 'list');
  assert.equal(inv.options.json, true);
  assert.equal(inv.options.stateDir, '/tmp/s');
});

test('search joins its words; remove takes --delete-data', () => {
  assert.deepEqual(parseCommandLine(['search', 'big', 'buck', 'bunny'], env).positionals, ['big buck bunny']);
  assert.equal(parseCommandLine(['remove', 'abcd', '--delete-data'], env).options.deleteData, true);
});

test('usage errors are UsageError (exit 2) with a useful message', () => {
  const bad = (argv: string[], re: RegExp) =>
    assert.throws(() => parseCommandLine(argv, env), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message));
  bad([], /missing command/);
  bad(['frobnicate'], /unknown command "frobnicate"/);
  bad(['download'], /missing argument/);
  bad(['list', 'extra'], /unexpected argument "extra"/);
  bad(['list', '--peer', '1.2.3.4:5'], /Unknown option '--peer'.*cascade list/);
  bad(['download', 'x', '--port', '70000'], /--port must be between 0 and 65535/);
  bad(['download', 'x', '--port', 'abc'], /--port wants a whole number/);
  bad(['download', 'x', '--peer', 'nohost'], /--peer wants host:port/);
  bad(['download', 'x', '--peer', 'h:0'], /--peer wants host:port/);
  bad(['download', 'x', '--timeout', '-1'], /--timeout/);
  bad(['download', 'x', '--tracker', 'not a url'], /--tracker wants a URL/);
  bad(['create', 'x', '--piece-length', 'big'], /--piece-length/);
  bad(['serve', '--no-dht', '--dht-bootstrap', 'h:1'], /contradict/);
  bad(['--port', '1', 'serve'], /unknown option --port before the command/);
  bad(['serve', '--http-port', '99999'], /--http-port must be between 0 and 65535/);
  bad(['serve', '--tracker-port', 'x'], /--tracker-port wants a whole number/);
  bad(['download', 'x', '--http-port', '1'], /http-port/);
});

test('serve: --http-port, --download-dir, --tracker-port; unset means the server defaults', () => {
  const o = parseCommandLine(['serve', '--http-port', '0', '--download-dir', 'dl', '--tracker-port', '7000', '--host', '0.0.0.0'], env).options;
  assert.equal(o.httpPort, 0);
  assert.equal(o.downloadDir, join(process.cwd(), 'dl'));
  assert.equal(o.trackerPort, 7000);
  assert.equal(o.host, '0.0.0.0');
  const d = parseCommandLine(['serve'], env).options;
  assert.deepEqual([d.httpPort, d.downloadDir, d.trackerPort, d.host], [undefined, undefined, undefined, undefined]);
});

test('local service discovery: serve follows the lsd setting, seed and download run it only with --lsd', () => {
  const lsd = (argv: string[]) => parseCommandLine(argv, env).options.lsd;
  assert.equal(lsd(['serve']), 'setting');
  assert.equal(lsd(['serve', '--no-lsd']), 'off');
  assert.equal(lsd(['serve', '--lsd']), 'on');
  assert.equal(lsd(['download', 'a'.repeat(40)]), 'off', 'a one-shot download (as benchmarks run it) stays off the LAN');
  assert.equal(lsd(['download', 'a'.repeat(40), '--lsd']), 'on');
  assert.equal(lsd(['seed', 'x.torrent', '--dir', '/tmp', '--lsd']), 'on');
  assert.equal(lsd(['seed', 'x.torrent', '--dir', '/tmp', '--no-lsd']), 'off');
  assert.throws(() => parseCommandLine(['list', '--lsd'], env), UsageError, 'only node-running commands take it');
});

test('checkHostPort accepts names, IPv4 and bracketed IPv6', () => {
  assert.equal(checkHostPort('--peer', 'example.org:51413'), 'example.org:51413');
  assert.equal(checkHostPort('--peer', '[2001:db8::1]:1'), '[2001:db8::1]:1');
  assert.throws(() => checkHostPort('--peer', '2001:db8::1:1'));
});

test('--help is accepted anywhere and every command has usage text', () => {
  assert.equal(parseCommandLine(['download', '--help'], env).options.help, true);
  assert.equal(parseCommandLine(['--help'], env).command, 'help');
  for (const name of Object.keys(COMMANDS)) assert.match(usageText(name), new RegExp(`usage: cascade ${name}`));
  assert.match(usageText(), /commands:/);
});
