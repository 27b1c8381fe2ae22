// What the auth routes and the gate share, built once by startServer.
import type { IncomingMessage } from 'node:http';
import type { ApiToken, AuthStore } from '@cascade/node';
import type { Gate } from './gate.ts';
import type { Holds } from './holds.ts';
import type { SignInService } from './sign-in.ts';

export interface AuthContext {
  store: AuthStore;
  gate: Gate;
  signIn: SignInService;
  /** The node's own identity, as `cascade identity` prints it. */
  node: { did: string; address: string };
  /** Feed sockets and streams, admitted again when a credential changes. */
  holds: Holds;
  /** Membership, sessions or the token changed: what lost its access (feed sockets, streams) ends. */
  changed(): void;
  /** The node's state dir: where the claim code is (claim-code, 0600). */
  stateDir: string;
  /** The node's API token (rotatable: Settings, `cascade token --rotate`). */
  token: ApiToken;
  /** Who is calling: the socket's address, or what a proxy the owner trusts (--trusted-proxy) forwarded. */
  clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>): string;
}
