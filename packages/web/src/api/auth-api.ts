// The node's sign-in and user routes (packages/http, issue 12): challenge → signature → verify
// sets an HttpOnly session cookie; /api/auth/me says who this browser is to the node.
import { request } from './api.ts';
import type { CallerRole as Role, Challenge, Member as User, WhoAmI as Me } from '@cascade/shapes';

// What the sign-in and user routes send (@cascade/shapes): a caller's role, who this browser is to
// the node (GET /api/auth/me), the challenge to sign, a member (GET /api/users).
export type { Challenge, Me, Role, User };

export const authApi = {
  me: () => request<Me>('GET', '/api/auth/me'),
  challengeDid: (did: string) => request<Challenge>('POST', '/api/auth/challenge', { method: 'did', did }),
  challengeSiwe: (address: string, chainId: number) => request<Challenge>('POST', '/api/auth/challenge', { method: 'siwe', address, chainId }),
  verify: (body: { message: string; signature: string; binding?: unknown }) => request<Me>('POST', '/api/auth/verify', body),
  logout: () => request<unknown>('POST', '/api/auth/logout'),
  claim: (code: string) => request<{ role: Role }>('POST', '/api/auth/claim', { code }),
  users: async () => (await request<{ users: User[] }>('GET', '/api/users')).users,
  /** The people the signed-in user talks with in this node's chat, most recent first. */
  chatContacts: async () => (await request<{ contacts: { did: string; name: string | null }[] }>('GET', '/api/chat/contacts')).contacts,
  addUser: async (id: string, role?: User['role']) => (await request<{ user: User }>('POST', '/api/users', { id, ...(role ? { role } : {}) })).user,
  transferOwner: (id: string) => request<unknown>('POST', '/api/users/transfer-owner', { id }),
  rotateToken: async () => (await request<{ token: string }>('POST', '/api/token/rotate')).token,
  removeUser: (id: string) => request<unknown>('DELETE', `/api/users/${encodeURIComponent(id)}`),
};

/** Normalises whatever /api/auth/me sent (missing fields become null/false). */
export function normaliseMe(raw: unknown): Me {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const role = o.role === 'owner' || o.role === 'admin' || o.role === 'member' || o.role === 'viewer' || o.role === 'visitor' ? o.role : null;
  const node = o.node && typeof o.node === 'object' ? (o.node as Record<string, unknown>) : undefined;
  return {
    signedIn: o.signedIn === true,
    did: str(o.did),
    address: str(o.address),
    role,
    claimed: o.claimed === true,
    claimable: o.claimable === true,
    node: node && typeof node.did === 'string' ? { did: node.did, address: String(node.address ?? '') } : null,
  };
}
