// The node's auth parts, built once by startServer: the members store, the request gate over the
// node's (rotatable) API token, sign-in, the proxies the owner trusts, the claim code of an
// unclaimed node, and the control methods `cascade token --rotate` and `cascade users reset-owner`
// use while the node runs.
import type { IncomingMessage } from 'node:http';
import { TrustedProxies } from '@cascade/tracker';
import { ApiToken, AuthStore, ensureClaimCode, NodeError, nodeIdentity, readClaimCode, removeClaimCode, resetClaimCode, type CascadeNode, type NodeLog } from '@cascade/node';
import { Gate } from './gate.ts';
import { Holds } from './holds.ts';
import { SignInService } from './sign-in.ts';
import type { AuthContext } from './context.ts';

export interface AuthParts {
  auth: AuthContext;
  proxies: TrustedProxies;
  /** The claim code while the node has no owner. */
  claimCode(): Promise<string | undefined>;
}

/** Throws a NodeError (invalid) naming a bad entry: an address or CIDR range is expected. */
export function trustedProxiesOf(entries: readonly string[]): TrustedProxies {
  try {
    return new TrustedProxies(entries);
  } catch (err) {
    throw new NodeError('invalid', `--trusted-proxy: ${(err as Error).message}`);
  }
}

/** The proxies of the node's trustedProxies setting, kept up to date when it changes (Settings,
 *  PATCH /api/settings, `cascade settings trustedProxies …`); `serve --trusted-proxy` seeds it. */
export async function followTrustedProxies(node: CascadeNode, given: readonly string[] | undefined): Promise<TrustedProxies> {
  if (given !== undefined) await node.model.setSettings({ trustedProxies: [...given] });
  const proxies = trustedProxiesOf(node.model.getSettings().trustedProxies);
  node.model.settings.onChange((next, _prev, changed) => {
    if (changed.includes('trustedProxies')) proxies.replace(next.trustedProxies);
  });
  return proxies;
}

export async function setUpAuth(
  node: CascadeNode,
  opts: { stateDir: string; proxies: TrustedProxies; allowedOrigins?: readonly string[]; allowedHosts?: readonly string[]; log: NodeLog },
): Promise<AuthParts> {
  const { stateDir, log } = opts;
  const { proxies } = opts;
  let token = node.control?.apiToken;
  if (!token) await (token = new ApiToken(stateDir)).useStore(node.db.store);
  const store = new AuthStore(node.db);
  const gate = new Gate(store, token, { allowedOrigins: opts.allowedOrigins ?? [], allowedHosts: opts.allowedHosts ?? [] });
  const holds = new Holds(gate);
  const changed = () => {
    gate.forget();
    void holds.recheck();
  };
  // Rotated here (the route, `cascade token --rotate`) or by another member of the cluster: what the
  // old token opened ends now (the compatible APIs' sessions: compat-ops.ts).
  token.onRotate(changed);
  const id = nodeIdentity(node.db);
  const auth: AuthContext = {
    store,
    gate,
    holds,
    signIn: new SignInService(id.did),
    node: { did: id.did, address: id.address },
    changed,
    stateDir,
    token,
    clientAddress: (req: Pick<IncomingMessage, 'headers' | 'socket'>) => proxies.clientAddress(req),
  };
  // A claimed node has no use for a code; an unclaimed one always has one, from its first start.
  if ((await store.owner()) !== undefined) removeClaimCode(stateDir);
  else ensureClaimCode(stateDir);

  node.control?.extend({
    'auth.rotateToken': async () => {
      const fresh = await token.rotate();
      log.note('the API token was rotated: the old one no longer works');
      return { token: fresh };
    },
    // `cascade users add|remove|transfer-owner` write the state themselves, then say so here: what a
    // removed or demoted member holds open (feeds, streams) ends now, not at the next 5 s recheck.
    'auth.membersChanged': async () => {
      changed();
      log.event('members-changed', {});
      return {};
    },
    'auth.resetOwner': async () => {
      const removed = (await store.resetOwner()) ?? null;
      const code = resetClaimCode(stateDir, removed);
      changed();
      log.event('owner-reset', { removed });
      log.say(`The owner was reset${removed ? ` (was ${removed})` : ''}: claim the node again with the claim code ${code}`);
      return { removed, code };
    },
  });
  return { auth, proxies, claimCode: async () => ((await store.owner()) === undefined ? readClaimCode(stateDir) : undefined) };
}
