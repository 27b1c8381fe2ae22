// The embedded chain's state file, kept usable. anvil writes its --state file in place (opened with
// O_TRUNC, then written: strace shows no temporary file and no rename), at its interval and on its
// way out. A power loss, a full disk or anvil killed in the middle of a write leaves it cut short, and
// anvil then refuses to start ("failed to parse json file … EOF while parsing"): the node's chain, and
// with it its registrations, claims and market, would not come back. So beside it this keeps the last
// copy that parsed (`<state>.good`, written to a temporary file, synced and renamed over), refreshed
// at each start and every few minutes while the chain runs; a start that finds the state cut short
// keeps it aside (`<state>.broken-<ms>`) and goes on from that copy.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a start found. `restoredFrom`: the good copy's time (ms) it went on from; `lost`: no copy
 *  parsed either, so the chain starts empty. `broken`: where the cut-short file was kept. */
export interface StateCheck {
  broken?: string;
  restoredFrom?: number;
  lost?: boolean;
}

const goodCopy = (statePath: string) => `${statePath}.good`;

/** The file's text when it is a whole JSON document, else undefined. */
function wholeJson(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/** Writes `text` to `path` so that a crash leaves either the old file or the new one, whole. */
export function writeWhole(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself reaches the disk with its folder.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Before anvil starts on `statePath`: the file is whole (and copied), or replaced by the good copy. */
export function checkStateFile(statePath: string): StateCheck {
  if (!existsSync(statePath)) return {};
  const text = wholeJson(statePath);
  if (text !== undefined) {
    keepGoodCopy(statePath, text);
    return {};
  }
  const broken = `${statePath}.broken-${Date.now()}`;
  renameSync(statePath, broken);
  const good = wholeJson(goodCopy(statePath));
  if (good === undefined) return { broken, lost: true };
  writeWhole(statePath, good);
  return { broken, restoredFrom: statSync(goodCopy(statePath)).mtimeMs };
}

/** Copies the state file to its good copy if it parses now (anvil may be in the middle of a write:
 *  then the copy stays as it was). True when copied. */
export function refreshGoodCopy(statePath: string): boolean {
  const text = wholeJson(statePath);
  if (text === undefined) return false;
  keepGoodCopy(statePath, text);
  return true;
}

function keepGoodCopy(statePath: string, text: string): void {
  try {
    writeWhole(goodCopy(statePath), text);
  } catch {
    // A full disk: the older copy stays, and so does the state file it was to copy.
  }
}
