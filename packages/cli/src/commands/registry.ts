// `cascade register <torrent-file|infohash>` and `cascade verify <infohash>` (issue 13): ownership
// records in the content registry, through the running node (its account signs and pays gas).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { CliError, UsageError } from '@cascade/server/errors';
import { requireNode, type Verb } from './node-access.ts';

export const register: Verb = async (inv, out, node) => {
  const arg = inv.positionals[0]!;
  const params: Record<string, unknown> = {};
  if (existsSync(arg) && statSync(arg).isFile()) params.torrent = readFileSync(arg).toString('base64');
  else if (/^[0-9a-fA-F]{1,40}$/.test(arg)) params.infoHash = arg;
  else throw new UsageError(`register wants a .torrent file or an infohash, got "${arg}"`);
  const r = await requireNode(node, 'register').call<{ tx: string | null; infoHash: string; owner: string; metadataCid: string; block: number }>('register', params);
  out.result(r, () =>
    r.tx === null
      ? `${r.infoHash} is already registered to this node's account ${r.owner} (block ${r.block}), metadata ${r.metadataCid}`
      : `registered ${r.infoHash} to ${r.owner} in block ${r.block} (tx ${r.tx}), metadata ${r.metadataCid}`,
  );
  return 0;
};

export const verify: Verb = async (inv, out, node) => {
  const ih = inv.positionals[0]!;
  if (!/^[0-9a-fA-F]{40}$/.test(ih)) throw new UsageError(`verify wants a full 40-digit infohash, got "${ih}"`);
  let r: { owner: string; did: string | null; metadataCid: string; block: number };
  try {
    r = await requireNode(node, 'verify').call('verify', { infoHash: ih });
  } catch (err) {
    // "not registered" is an answer, not a failure of the command: exit 1 with it, as documented.
    if (/is not registered/.test((err as Error).message)) {
      out.result({ infoHash: ih.toLowerCase(), registered: false }, () => `${ih.toLowerCase()}: not registered`);
      return 1;
    }
    throw err instanceof Error ? new CliError(err.message) : err;
  }
  out.result(r, () => `${ih.toLowerCase()}: owner ${r.owner}${r.did ? ` (${r.did})` : ''}, metadata ${r.metadataCid}, block ${r.block}`);
  return 0;
};
