// `cascade token` and `cascade users`: the node's API token and its members, straight from the
// state dir, whether or not the node runs (it reads membership on every request, so a change
// applies at once). Whoever can read the state dir is the node's operator.
import { AuthStore, loadOrCreateApiToken, memberId, StateDB, type Member } from '@cascade/node';
import { UsageError, CliError } from '../errors.ts';
import type { Invocation } from '../args.ts';
import type { Output } from '../output.ts';

export async function tokenCommand(inv: Invocation, out: Output): Promise<number> {
  const token = loadOrCreateApiToken(inv.options.stateDir);
  out.result({ token }, () => token);
  return 0;
}

function describe(m: Member): string {
  return `${m.role.padEnd(6)}  ${m.id}  (added ${new Date(m.addedAt).toISOString().slice(0, 16).replace('T', ' ')}${m.addedBy ? ` by ${m.addedBy}` : ''})`;
}

export async function usersCommand(inv: Invocation, out: Output): Promise<number> {
  const [action = 'list', id] = inv.positionals;
  if (!['list', 'add', 'remove'].includes(action)) throw new UsageError(`unknown users action "${action}" (list, add or remove)`);
  if (action === 'list' && id !== undefined) throw new UsageError('users list takes no argument');
  if (action !== 'list') {
    if (id === undefined) throw new UsageError(`users ${action} needs a did:key or an Ethereum address`);
    if (!memberId(id)) throw new UsageError(`"${id}" is neither a did:key (did:key:z…) nor an Ethereum address (0x + 40 hex digits)`);
  }
  const db = StateDB.open(inv.options.stateDir);
  try {
    const store = new AuthStore(db);
    if (action === 'list') {
      const users = store.members();
      out.result({ users }, () => (users.length ? users.map(describe).join('\n') : 'no owner or members yet: open the web UI on this machine to claim the node'));
      return 0;
    }
    if (action === 'add') {
      const { member, existing } = store.addMember(id!, 'member', 'cli');
      out.result({ event: 'user-added', user: member, existing }, () => (existing ? `already ${member.role === 'owner' ? 'the owner' : 'a member'}: ${member.id}` : `added member ${member.id}`));
      return 0;
    }
    const m = memberId(id)!;
    if (store.owner()?.id === m.id) throw new CliError('the owner cannot be removed');
    if (!store.removeMember(m.id)) throw new CliError(`${m.id} is not a member`);
    out.result({ event: 'user-removed', id: m.id }, () => `removed ${m.id}`);
    return 0;
  } finally {
    db.close();
  }
}
