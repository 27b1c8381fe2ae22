// An outside swarm for tests: libtorrent (python3-libtorrent, engine/test/lt_seed.py) seeding a
// torrent on 127.0.0.1 at a capped rate.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { tempDir } from './helpers.ts';

type T = Parameters<typeof tempDir>[0];

const LT_SEED = fileURLToPath(new URL('../../engine/test/lt_seed.py', import.meta.url));

/** libtorrent seeding `torrentPath` from `dir` at `rate` bytes/s; resolves with its port once it seeds. */
export async function ltSeed(t: T, torrentPath: string, dir: string, rate: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('/usr/bin/python3', [LT_SEED, torrentPath, dir, String(rate)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('seeding')) resolve(Number(/port (\d+)/.exec(out)![1]));
    });
    child.once('exit', (code) => reject(new Error(`lt_seed exited ${code}: ${out}`)));
  });
  return { port, child };
}
