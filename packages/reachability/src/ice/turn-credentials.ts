// TURN credentials in coturn's shared-secret scheme (`use-auth-secret`, the "TURN REST API" draft):
// the user name is `<expiry unix seconds>:<label>` and the password base64(HMAC-SHA1(secret, name)).
// The TURN server, told the same secret, checks the HMAC and the expiry; nobody types a password and
// a leaked credential stops working at its expiry.
import { createHmac } from 'node:crypto';

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds. */
  expires: number;
}

export function mintTurnCredentials(secret: string, ttlSeconds: number, label = 'cascade', now = Date.now()): TurnCredentials {
  if (!secret) throw new Error('a TURN secret is needed');
  if (!(ttlSeconds > 0)) throw new Error('the TURN credential lifetime must be positive');
  const expires = Math.floor(now / 1000) + Math.floor(ttlSeconds);
  // coturn splits the name at the first ':' and reads the expiry before it: keep ':' out of the label.
  const username = `${expires}:${label.replaceAll(':', '_')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expires };
}
