// The API has no login: it trusts whoever can reach it (127.0.0.1 by default). Browsers, though,
// let any web page send a form POST — or open a WebSocket — to localhost. Those requests carry
// an Origin header naming the foreign page, so requests from another origin are refused; tools
// like curl send no Origin and are let through.

import type { IncomingMessage } from 'node:http';

export function originAllowed(req: Pick<IncomingMessage, 'headers'>, extra: readonly string[] = []): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (extra.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    // "null" (sandboxed frames, file://) or garbage: not our page.
    return false;
  }
  return host !== '' && host === req.headers.host;
}
