// Who this browser is to the node: one shared store (read with useAuth) over GET /api/auth/me, and
// the actions that change it — sign in with this browser's key or an Ethereum wallet, claim an
// unowned node, sign out. Only an owner or member opens the live socket and polls the node's
// torrents (live.ts): a visitor would get nothing but 401/403 from them. A visitor re-reads /me
// every few seconds, so the app opens up as soon as the owner adds them as a member.
import { useSyncExternalStore } from 'react';
import { ApiError, setAuthProblemHandler } from '../api/api.ts';
import { authApi, normaliseMe, type Me, type Role } from '../api/auth-api.ts';
import { resetLive } from './live.ts';
import { checkSiweMessage, walletAccount, walletChainId, walletSign } from '../identity/wallet.ts';
import { shortAddress0x, shortDid } from '../format/short-id.ts';

export type { Role };

export interface AuthState extends Me {
  /** loading: first /me pending; ready: the node signs people in; open: a node without sign-in
   *  (older server: everyone may do everything); unreachable: /me failed (retried). */
  status: 'loading' | 'ready' | 'open' | 'unreachable';
  /** What a sign-in, claim or sign-out in progress is. */
  busy: 'key' | 'wallet' | 'claim' | 'signout' | undefined;
  /** Why the last action failed, for the screen that started it. */
  error: string | undefined;
  /** Why /me failed (status unreachable). */
  problem: string | undefined;
}

const SIGNED_OUT: Me = { signedIn: false, did: null, address: null, role: null, claimed: false, claimable: false, node: null };
let state: AuthState = { ...SIGNED_OUT, status: 'loading', busy: undefined, error: undefined, problem: undefined };
const listeners = new Set<() => void>();
let started = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let liveKey = '';

/** Owner, admins and members see and manage the node's torrents; so does everyone on a node
 *  without sign-in. A viewer sees them too (isReader) but changes nothing. */
export function isMember(s: Pick<AuthState, 'status' | 'role'>): boolean {
  return s.status === 'open' || s.role === 'owner' || s.role === 'admin' || s.role === 'member';
}

/** May manage members and viewers (Settings → Users): the owner and admins. */
export function isAdmin(s: Pick<AuthState, 'status' | 'role'>): boolean {
  return s.status === 'open' || s.role === 'owner' || s.role === 'admin';
}

/** The top bar's "who am I": a short did, else a short address. */
export function whoLabel(s: Pick<Me, 'did' | 'address'>): string {
  if (s.did) return shortDid(s.did);
  if (s.address) return shortAddress0x(s.address);
  return 'nobody';
}

function set(patch: Partial<AuthState>): void {
  state = { ...state, ...patch };
  // A new role or a new person: the live socket's handshake carried the old cookie, so start over.
  const member = isMember(state);
  const key = `${member}|${state.did}|${state.address}|${state.role}|${state.status}`;
  if (key !== liveKey && state.status !== 'loading') {
    liveKey = key;
    resetLive(member);
  }
  for (const fn of listeners) fn();
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  // A visitor waits to be made a member; an unreachable node is tried again.
  const visitor = state.status === 'ready' && state.signedIn && !isMember(state);
  if (visitor || state.status === 'unreachable') timer = setTimeout(() => void refreshAuth(), 3000);
}

let inflight: Promise<void> | undefined;

/** Reads /api/auth/me again (after an action, or when a call came back 401/403). */
export function refreshAuth(): Promise<void> {
  inflight ??= (async () => {
    try {
      const res = await fetch('/api/auth/me', { headers: { accept: 'application/json' } });
      // A node from before sign-in existed has no such route: it is open to whoever reaches it.
      if (res.status === 404) set({ ...SIGNED_OUT, status: 'open', problem: undefined });
      else if (!res.ok) set({ status: state.status === 'loading' ? 'unreachable' : state.status, problem: `the node answered ${res.status}` });
      else set({ ...normaliseMe(await res.json()), status: 'ready', problem: undefined });
    } catch (err) {
      // Keep showing what we knew; only a first failure has nothing else to show.
      set({ status: state.status === 'loading' || state.status === 'unreachable' ? 'unreachable' : state.status, problem: (err as Error).message });
    } finally {
      inflight = undefined;
      schedule();
    }
  })();
  return inflight;
}

function start(): void {
  if (started) return;
  started = true;
  setAuthProblemHandler(() => void refreshAuth());
  void refreshAuth();
}

function subscribe(fn: () => void): () => void {
  start();
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function useAuth(): AuthState {
  return useSyncExternalStore(subscribe, () => state);
}

export function authSnapshot(): AuthState {
  return state;
}

/** Runs one action at a time; its failure is kept in `error` for the screen to show. */
async function run(kind: NonNullable<AuthState['busy']>, fn: () => Promise<void>): Promise<boolean> {
  if (state.busy) return false;
  set({ busy: kind, error: undefined });
  try {
    await fn();
    set({ busy: undefined });
    return true;
  } catch (err) {
    set({ busy: undefined, error: messageOf(err) });
    return false;
  } finally {
    await refreshAuth();
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ApiError && err.status === 401 && /signature|expired|nonce|replay/i.test(err.message)) return `The node did not accept the signature: ${err.message}`;
  const e = err as { message?: unknown; code?: unknown };
  // EIP-1193: 4001 = the user rejected the request in the wallet.
  if (e && e.code === 4001) return 'The wallet request was rejected.';
  return typeof e?.message === 'string' && e.message ? e.message : String(err);
}

async function keySignIn(): Promise<void> {
  const keys = await import('../identity/keys.ts');
  const id = await keys.loadOrCreateIdentity();
  const ch = await authApi.challengeDid(id.did);
  const signature = keys.signChallenge(id, ch.message, { nonce: ch.nonce, node: state.node?.did });
  await authApi.verify({ message: ch.message, signature, binding: await keys.bindingFor(id) });
}

/** Signs in with this browser's own key (the chat identity in IndexedDB). */
export function signInWithKey(): Promise<boolean> {
  return run('key', keySignIn);
}

/** Signs in with an external wallet: Sign-In with Ethereum, personal_sign by the wallet. A binding
 *  of this browser's did to that account (Settings → Link external wallet) goes along, so the
 *  session also covers the did. */
export function signInWithWallet(): Promise<boolean> {
  return run('wallet', async () => {
    const address = await walletAccount();
    const ch = await authApi.challengeSiwe(address, await walletChainId());
    const wrong = checkSiweMessage(ch.message, address);
    if (wrong) throw new Error(`The node sent a sign-in message this page will not have the wallet sign: ${wrong}.`);
    const signature = await walletSign(ch.message, address);
    const binding = await storedBindingOf(address);
    await authApi.verify({ message: ch.message, signature, ...(binding ? { binding } : {}) });
  });
}

async function storedBindingOf(address: string): Promise<unknown> {
  try {
    const keys = await import('../identity/keys.ts');
    const id = await keys.loadIdentity();
    const b = id ? await keys.loadWalletBinding(id.did) : undefined;
    return b && b.address.toLowerCase() === address.toLowerCase() ? b : undefined;
  } catch {
    return undefined;
  }
}

/** Makes this browser the node's owner with the claim code `cascade serve` printed (signing in
 *  with its key first when needed). */
export function claimNode(code: string): Promise<boolean> {
  return run('claim', async () => {
    if (code.trim() === '') throw new Error('Enter the claim code: `cascade serve` printed it, and `cascade claim-code` on the node’s machine shows it.');
    if (!state.signedIn) {
      await keySignIn();
      await refreshAuth();
    }
    await authApi.claim(code.trim());
  });
}

export function signOut(): Promise<boolean> {
  return run('signout', async () => {
    await authApi.logout();
  });
}

export function clearAuthError(): void {
  if (state.error) set({ error: undefined });
}
