// `cascade identity`: the node's did and Ethereum account, read from its state dir (made on first
// use, as the node itself does), whether or not the node is running. `identity export FILE` writes
// it passphrase-encrypted (the chat's export format); `identity import FILE` makes the node that
// identity (only while it is stopped). The passphrase comes from $CASCADE_PASSPHRASE or stdin.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { exportIdentity, importIdentity } from '@cascade/identity';
import { connectControl, nodeIdentity, replaceNodeKey } from '@cascade/node';
import { openState } from './node-access.ts';
import { CliError, UsageError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

const MIN_PASSPHRASE = 8;

async function passphrase(): Promise<string> {
  const env = process.env.CASCADE_PASSPHRASE;
  if (env !== undefined) return env;
  if (process.stdin.isTTY) process.stderr.write('passphrase (set CASCADE_PASSPHRASE to skip this): ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export async function identityCommand(inv: Invocation, out: Output): Promise<number> {
  const [action, file] = inv.positionals;
  if (action !== undefined && action !== 'export' && action !== 'import') throw new UsageError(`unknown identity action "${action}" (export FILE or import FILE)`);
  if (action !== undefined && file === undefined) throw new UsageError(`identity ${action} needs a file`);
  if (action === 'export' && existsSync(file!)) throw new UsageError(`${file} exists already; choose another file`);
  if (action === 'import') {
    if (await connectControl(inv.options.stateDir, 5000)) throw new CliError('the node is running: stop it before importing another identity');
    let text: string;
    try {
      text = readFileSync(file!, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
    }
    let imported;
    try {
      imported = await importIdentity(text, await passphrase());
    } catch (err) {
      throw new CliError(`cannot import ${file}: ${(err as Error).message}`);
    }
    const db = await openState(inv);
    try {
      const id = await replaceNodeKey(db, imported.signSecret);
      out.result({ event: 'identity-imported', did: id.did, address: id.address }, () => `the node is now ${id.did}\naddress: ${id.address}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  const db = await openState(inv);
  try {
    const id = nodeIdentity(db);
    if (action === 'export') {
      const pass = await passphrase();
      if (pass.length < MIN_PASSPHRASE) throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`);
      writeFileSync(file!, await exportIdentity(id, pass), { mode: 0o600, flag: 'wx' });
      out.result({ event: 'identity-exported', did: id.did, file }, () => `exported ${id.did} to ${file} (keep it and its passphrase safe)`);
      return 0;
    }
    out.result({ did: id.did, address: id.address }, () => `did:     ${id.did}\naddress: ${id.address}`);
    return 0;
  } finally {
    await db.close();
  }
}
