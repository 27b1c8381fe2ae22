// Cascade downloads from a real libtorrent seeder: given the .torrent, and given only a bare magnet
// plus --peer (so the info dictionary has to come over BEP 9 ut_metadata). Single and multi-file.

import { test } from 'node:test';
import { join } from 'node:path';
import {
  MULTI_FILE_SPEC,
  SINGLE_FILE_SPEC,
  assertCascadeDone,
  bareMagnet,
  cascade,
  compareTrees,
  ltCreate,
  makeRandomFiles,
  requireClient,
  startLibtorrent,
  tempDir,
} from './helpers.ts';

const layouts = [
  { layout: 'single-file', spec: SINGLE_FILE_SPEC, name: 'single-fixture.bin', pieceLength: 32 * 1024 },
  { layout: 'multi-file', spec: MULTI_FILE_SPEC, name: 'multi-fixture', pieceLength: 16 * 1024 },
] as const;

for (const { layout, spec, name, pieceLength } of layouts) {
  for (const via of ['torrent', 'magnet'] as const) {
    test(`cascade downloads a ${layout} torrent from libtorrent via ${via === 'torrent' ? '.torrent' : 'bare magnet + --peer'}`, { timeout: 60_000 }, async (t) => {
      requireClient('cascade');
      requireClient('libtorrent');
      const root = await tempDir(t);
      const src = join(root, 'src');
      // Single-file specs are written directly under src; multi-file ones under src/<name>.
      await makeRandomFiles(layout === 'multi-file' ? join(src, name) : src, spec);
      const torrent = join(root, `${layout}.torrent`);
      const created = await ltCreate(join(src, name), torrent, { pieceLength });
      const seeder = await startLibtorrent(t, torrent, src);

      const out = join(root, 'out');
      const source = via === 'torrent' ? torrent : bareMagnet(created.infoHash);
      const { proc, exit } = await cascade(t, 'download', [source, '-o', out, '--peer', `127.0.0.1:${seeder.port}`], {
        timeoutMs: 50_000,
      });
      assertCascadeDone(proc, exit, created.infoHash);
      await compareTrees(join(src, name), join(out, name));
    });
  }
}
