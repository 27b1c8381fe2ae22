import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatSpeed, formatDuration, formatPercent, formatBar, parseSize, parseRate, formatLimit, units18 } from '../src/output/format.ts';
import { progressLine } from '../src/output/progress.ts';
import type { TorrentStats } from '../src/core/engine.ts';

test('formatBytes uses binary units with one decimal below 100', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(150 * 1024 * 1024), '150 MiB');
  assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
  assert.equal(formatBytes(-1), '?');
  assert.equal(formatBytes(NaN), '?');
});

test('formatSpeed appends /s', () => {
  assert.equal(formatSpeed(2048), '2.0 KiB/s');
  assert.equal(formatSpeed(0), '0 B/s');
});

test('formatDuration covers seconds to days and unknown', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(45.4), '45s');
  assert.equal(formatDuration(65), '1m05s');
  assert.equal(formatDuration(2 * 3600 + 3 * 60), '2h03m');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3d04h');
  assert.equal(formatDuration(Infinity), '--');
  assert.equal(formatDuration(-5), '--');
  assert.equal(formatDuration(500 * 86400), '--');
});

test('formatPercent never rounds up to 100%', () => {
  assert.equal(formatPercent(0), '0.0%');
  assert.equal(formatPercent(0.4523), '45.2%');
  assert.equal(formatPercent(0.99999), '99.9%');
  assert.equal(formatPercent(1), '100.0%');
  assert.equal(formatPercent(2), '100.0%');
});

test('formatBar fills proportionally', () => {
  assert.equal(formatBar(0.5, 10), '[#####-----]');
  assert.equal(formatBar(0, 4), '[----]');
  assert.equal(formatBar(1, 4), '[####]');
});

test('parseSize accepts bytes and binary suffixes', () => {
  assert.equal(parseSize('16384'), 16384);
  assert.equal(parseSize('256k'), 256 * 1024);
  assert.equal(parseSize('1MiB'), 1024 * 1024);
  assert.equal(parseSize('2 MB'), 2 * 1024 * 1024);
  assert.throws(() => parseSize('lots'), /invalid size/);
  assert.throws(() => parseSize('1.5'), /whole number/);
});

test('progressLine fits the terminal and shows speed, ETA and peers', () => {
  const s: TorrentStats = {
    infoHashHex: 'aa'.repeat(20), name: 'x', state: 'downloading', progress: 0.25, length: 4096, pieceCount: 4,
    verifiedPieces: 1, downloaded: 1024, uploaded: 0, downloadSpeed: 2048, uploadSpeed: 0, eta: 65, peers: 3, seeds: 1,
  };
  const line = progressLine(s, 100);
  assert.ok(line.length < 100);
  assert.match(line, /^ 25\.0% \[#+-+\] ↓ +2\.0 KiB\/s ↑ +0 B\/s ETA 1m05s +3 peers$/);
  assert.ok(progressLine(s, 40).length <= 39);
  assert.match(progressLine({ ...s, state: 'metadata', pieceCount: undefined, eta: Infinity }, 100), /^metadata\s+\?\.\?% .*ETA --/);
});

test('parseRate: sizes per second with binary units; 0 and none mean no limit; nonsense is refused', () => {
  assert.equal(parseRate('4MiB'), 4 * 1024 * 1024);
  assert.equal(parseRate('500k'), 500 * 1024);
  assert.equal(parseRate('1.5M'), 1.5 * 1024 * 1024);
  assert.equal(parseRate('2 MB/s'), 2 * 1024 * 1024);
  assert.equal(parseRate('65536'), 65536);
  assert.equal(parseRate('0'), 0);
  assert.equal(parseRate('none'), 0);
  assert.equal(parseRate('Unlimited'), 0);
  for (const bad of ['fast', '-1', '4 parsecs', '', '1e3', '5000G']) assert.throws(() => parseRate(bad), /invalid rate/, bad);
  assert.equal(formatLimit(0), 'none');
  assert.equal(formatLimit(4 * 1024 * 1024), '4.0 MiB/s');
});

test('units18: 18-decimal token amounts exactly, no float rounding', () => {
  assert.equal(units18('0'), '0');
  assert.equal(units18(100n * 10n ** 18n), '100');
  assert.equal(units18('8388608000000000'), '0.008388608');
  assert.equal(units18('1'), '0.000000000000000001');
  assert.equal(units18(123456789012345678901234567890n), '123456789012.34567890123456789');
});
