// Shared test helpers: temp state dirs, captured output, and (from the server's test helpers) a
// fake engine session, since the node the verbs talk to lives in @cascade/node.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Output } from '../src/output/output.ts';

export { FakeTorrent, fakeSession, HASH_A, HASH_B } from '../../node/test/helpers.ts';

const made = new Set<string>();
let sweepAtExit = false;

/** A temp dir removed after the test, and once more as the test file's process exits: a node stopped
 *  by a hook registered after this one (hooks run in order) left its embedded chain writing its
 *  state there after the first removal, and the folder stayed in /tmp after every run. */
export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-cli-'));
  made.add(dir);
  if (!sweepAtExit) {
    sweepAtExit = true;
    process.once('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export function capture(json: boolean) {
  const stdout = new Sink();
  const stderr = new Sink();
  const out = new Output(json, stdout, stderr);
  return {
    out,
    stdout: () => stdout.text,
    stderr: () => stderr.text,
    /** stdout parsed as JSON lines (json mode). */
    events: () =>
      stdout.text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}
