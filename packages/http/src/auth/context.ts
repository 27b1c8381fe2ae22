// What the auth routes and the gate share, built once by startServer.
import type { AuthStore } from '@cascade/node';
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
}
