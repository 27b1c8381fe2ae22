// What the auth routes and the gate share, built once by startServer.
import type { IncomingMessage } from 'node:http';
import type { ApiToken, AuthStore } from '@cascade/node';
import type { Gate } from './gate.ts';
import type { SignInService } from './sign-in.ts';

export interface AuthContext {
  store: AuthStore;
  gate: Gate;
  signIn: SignInService;
  /** The node's own identity, as `cascade identity` prints it. */
  node: { did: string; address: string };
  /** Membership or sessions changed: the live feed drops sockets that lost their access. */
  changed(): void;
  /** The node's state dir: where the claim code is (claim-code, 0600). */
  stateDir: string;
  /** The node's API token (rotatable: Settings, `cascade token --rotate`). */
  token: ApiToken;
  /** Who is calling: the socket's address, or what a proxy the owner trusts (--trusted-proxy) forwarded. */
  clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>): string;
}
