// `cascade token`, `cascade claim-code` and `cascade users`: the node's API token, its claim code and
// its members, straight from the state dir, whether or not the node runs (it reads membership on
// every request, so a change applies at once). Whoever can read the state dir is the node's
// operator. Two actions go through a running node's control endpoint, because the node holds what
// they change: rotating the token (its checkers must drop the old one) and resetting the owner
// (it prints the new claim code on its console).
import {
  AuthStore, connectControl, ensureClaimCode, memberId, MEMBER_ROLES, resetClaimCode, rotateApiToken, loadOrCreateApiToken, sharedApiToken, type Member, type Role,
} from '@cascade/node/verbs';
import { UsageError, CliError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { openState, withDb as withState } from './node-access.ts';

export async function tokenCommand(inv: Invocation, out: Output): Promise<number> {
  if (!inv.options.rotate) {
    // On PostgreSQL the state's token wins over the file (another node on it may have rotated it).
    const token = inv.options.database ? await withState(inv, (db) => sharedApiToken(inv.options.stateDir, db.store)) : loadOrCreateApiToken(inv.options.stateDir);
    out.result({ token }, () => token);
    return 0;
  }
  const node = await connectControl(inv.options.stateDir);
  const token = node
    ? (await node.call<{ token: string }>('auth.rotateToken')).token
    : inv.options.database
      ? await withState(inv, (db) => rotateApiToken(inv.options.stateDir, db.store))
      : await rotateApiToken(inv.options.stateDir);
  out.result({ event: 'token-rotated', token, running: node !== undefined }, () => `${token}\n(the old token no longer works${node ? ', on the running node too' : ''})`);
  return 0;
}

export async function claimCodeCommand(inv: Invocation, out: Output): Promise<number> {
  const db = await openState(inv);
  try {
    const owner = await new AuthStore(db).owner();
    if (owner) throw new CliError(`this node is claimed: its owner is ${owner.id} (\`cascade users reset-owner\` makes it claimable again)`);
    const code = ensureClaimCode(inv.options.stateDir);
    out.result({ code, stateDir: db.stateDir }, () => `${code}\n(open the node's web page, sign in and claim it with this code; it works once)`);
    return 0;
  } finally {
    await db.close();
  }
}

function describe(m: Member): string {
  return `${m.role.padEnd(6)}  ${m.id}  (added ${new Date(m.addedAt).toISOString().slice(0, 16).replace('T', ' ')}${m.addedBy ? ` by ${m.addedBy}` : ''})`;
}

const ACTIONS = ['list', 'add', 'remove', 'transfer-owner', 'reset-owner'];

export async function usersCommand(inv: Invocation, out: Output): Promise<number> {
  const [action = 'list', id] = inv.positionals;
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown users action "${action}" (list, add, remove, transfer-owner or reset-owner)`);
  if ((action === 'list' || action === 'reset-owner') && id !== undefined) throw new UsageError(`users ${action} takes no argument`);
  if (action !== 'list' && action !== 'reset-owner') {
    if (id === undefined) throw new UsageError(`users ${action} needs a did:key or an Ethereum address`);
    if (!memberId(id)) throw new UsageError(`"${id}" is neither a did:key (did:key:z…) nor an Ethereum address (0x + 40 hex digits)`);
  }
  const role = inv.options.role;
  if (role !== undefined && action !== 'add') throw new UsageError('--role goes with users add');
  if (role !== undefined && !MEMBER_ROLES.includes(role as Role)) throw new UsageError(`--role is admin, member or viewer, not "${role}"`);
  if (action === 'reset-owner') return resetOwner(inv, out);
  const db = await openState(inv);
  try {
    const code = await changeMembers(out, action, id, role, new AuthStore(db));
    if (action !== 'list') await tellRunningNode(inv);
    return code;
  } finally {
    await db.close();
  }
}

/** A running node reads members on every request, but what a member holds open (feeds, streams)
 *  it rechecks only every few seconds unless told: tell it, so a removal or demotion acts at once. */
async function tellRunningNode(inv: Invocation): Promise<void> {
  const node = await connectControl(inv.options.stateDir);
  // A node of an older version has no such method: its 5 s recheck still ends them.
  await node?.call('auth.membersChanged').catch(() => undefined);
}

async function changeMembers(out: Output, action: string, id: string | undefined, role: string | undefined, store: AuthStore): Promise<number> {
  if (action === 'list') {
    const users = await store.members();
    out.result({ users }, () => (users.length ? users.map(describe).join('\n') : 'no owner or members yet: claim the node in its web page with `cascade claim-code`'));
    return 0;
  }
  const m = memberId(id!)!;
  if (action === 'add') {
    if (role !== undefined && (await store.owner())?.id === m.id) throw new CliError('the owner keeps its role: `cascade users transfer-owner` hands it over');
    const { member, existing } = await store.addMember(m.id, (role ?? 'member') as Role, 'cli', role !== undefined);
    const text = existing && member.role !== role ? `already ${member.role === 'owner' ? 'the owner' : `a ${member.role}`}: ${member.id}` : `${existing ? 'now' : 'added'} ${member.role} ${member.id}`;
    out.result({ event: 'user-added', user: member, existing }, () => text);
    return 0;
  }
  if (action === 'transfer-owner') {
    const previous = (await store.owner())?.id ?? null;
    const owner = await store.transferOwnership(m.id, 'cli');
    if (!owner) throw new CliError('this node has no owner yet: claim it in its web page (`cascade claim-code`)');
    out.result({ event: 'owner-transferred', owner, previous }, () => `${owner.id} is the owner now${previous && previous !== owner.id ? ` (${previous} stays on as an admin)` : ''}`);
    return 0;
  }
  if ((await store.owner())?.id === m.id) throw new CliError('the owner cannot be removed: `cascade users transfer-owner` hands it over first');
  if (!(await store.removeMember(m.id))) throw new CliError(`${m.id} is not a member`);
  out.result({ event: 'user-removed', id: m.id }, () => `removed ${m.id}`);
  return 0;
}

/** Recovery by whoever holds the machine: the owner goes, and a new claim code claims the node again. */
async function resetOwner(inv: Invocation, out: Output): Promise<number> {
  const node = await connectControl(inv.options.stateDir);
  let r: { removed: string | null; code: string };
  if (node) r = await node.call<{ removed: string | null; code: string }>('auth.resetOwner');
  else {
    const db = await openState(inv);
    try {
      const removed = (await new AuthStore(db).resetOwner()) ?? null;
      r = { removed, code: resetClaimCode(inv.options.stateDir, removed) };
    } finally {
      await db.close();
    }
  }
  out.result({ event: 'owner-reset', ...r }, () => `${r.removed ? `${r.removed} is no longer the owner` : 'the node had no owner'}; claim it in its web page with the claim code ${r.code}`);
  return 0;
}
