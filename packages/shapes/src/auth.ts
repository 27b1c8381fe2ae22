// Who may use a node, as its sign-in and user routes say it: roles, the sign-in challenge, who a
// request is (GET /api/auth/me) and the members (GET /api/users).

/** A member's role; the owner is claimed or transferred, the others are given. */
export type Role = 'owner' | 'admin' | 'member' | 'viewer';

/** A caller's role as the HTTP API reports it: a member's, or `visitor` for someone signed in
 *  whom the node does not list (public routes only). */
export type CallerRole = Role | 'visitor';

export type SignInMethod = 'did' | 'siwe';

/** What POST /api/auth/challenge answers: the message to sign, for this nonce, until expiresAt. */
export interface Challenge {
  method: SignInMethod;
  nonce: string;
  message: string;
  /** ms since the epoch */
  expiresAt: number;
}

/** GET /api/auth/me: who this request is signed in as, and whether the node awaits its owner. */
export interface WhoAmI {
  signedIn: boolean;
  did: string | null;
  address: string | null;
  role: CallerRole | null;
  /** How the request proved it: the API token or a session cookie. */
  via?: 'token' | 'session' | null;
  /** The node has an owner. */
  claimed: boolean;
  /** No owner yet: the claim code claims it. */
  claimable: boolean;
  /** The node's own identity. */
  node: { did: string; address: string } | null;
}

/** One member of the node (GET /api/users). */
export interface Member {
  /** a did:key or a 0x address */
  id: string;
  kind: 'did' | 'address';
  role: Role;
  /** ms since the epoch */
  addedAt: number;
  addedBy: string | null;
}
