// A WebSocket to a tracker that is really a tunnel through a circuit (WebTorrent signaling for
// private discovery): the engine's WebSocket tracker client is handed this class instead of the
// global WebSocket and works unchanged, while the tracker sees only the exit. The SDP offers and
// answers it sends lose their ICE candidates and connection addresses on the way out: the peer that
// answers still connects (its own candidates reach us, and ICE learns ours from our checks), but
// the tracker, which reads every offer, learns no address of ours.
import type { OnionClient } from './client.ts';
import type { Tunnel } from './circuit.ts';

/** An SDP without our addresses: candidate lines dropped, connection and origin addresses zeroed. */
export function stripAddresses(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !/^a=(candidate|end-of-candidates|rtcp:)/.test(line))
    .map((line) => (/^c=IN IP[46] /.test(line) ? 'c=IN IP4 0.0.0.0' : line.replace(/^(o=\S+ \S+ \S+ IN) IP[46] \S+$/, '$1 IP4 0.0.0.0')))
    .join('\r\n');
}

/** Every SDP of a tracker message (announce offers, an answer) with its addresses stripped. */
export function stripMessage(m: Record<string, unknown>): Record<string, unknown> {
  const out = { ...m };
  if (Array.isArray(m.offers)) {
    out.offers = m.offers.map((o: { offer?: { sdp?: unknown } }) =>
      o && o.offer && typeof o.offer.sdp === 'string' ? { ...o, offer: { ...o.offer, sdp: stripAddresses(o.offer.sdp) } } : o,
    );
  }
  const answer = m.answer as { sdp?: unknown } | undefined;
  if (answer && typeof answer.sdp === 'string') out.answer = { ...answer, sdp: stripAddresses(answer.sdp) };
  const offer = m.offer as { sdp?: unknown } | undefined;
  if (offer && typeof offer.sdp === 'string') out.offer = { ...offer, sdp: stripAddresses(offer.sdp) };
  return out;
}

/** A `typeof WebSocket` for tracker URLs, carried by `client`'s circuits; a tunnel lives at most
 *  `maxAgeMs` (then it closes and the tracker client reconnects, through a newer circuit). */
export function circuitWebSocket(client: OnionClient, opts: { maxAgeMs?: number } = {}): typeof WebSocket {
  const maxAge = opts.maxAgeMs ?? 10 * 60_000;
  class CircuitWebSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readonly url: string;
    readyState = 0;
    binaryType = 'blob';
    private tunnel: Tunnel | undefined;
    private timer: ReturnType<typeof setTimeout> | undefined;

    constructor(url: string) {
      super();
      this.url = url;
      client
        .tunnel(
          { op: 'ws-tracker', url },
          (doc) => {
            if (this.readyState === 1) this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(doc) }));
          },
          () => this.closed(),
        )
        .then(
          (t) => {
            if (this.readyState !== 0) return t.close();
            this.tunnel = t;
            this.readyState = 1;
            this.timer = setTimeout(() => this.close(), maxAge);
            (this.timer as { unref?: () => void }).unref?.();
            this.dispatchEvent(new Event('open'));
          },
          () => this.closed(),
        );
    }

    send(text: string): void {
      if (this.readyState !== 1) return;
      let m: unknown;
      try {
        m = JSON.parse(text);
      } catch {
        return;
      }
      if (m && typeof m === 'object' && !Array.isArray(m)) this.tunnel!.send(stripMessage(m as Record<string, unknown>));
    }

    close(): void {
      this.tunnel?.close();
      this.closed();
    }

    private closed(): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      clearTimeout(this.timer);
      this.dispatchEvent(new Event('error'));
      this.dispatchEvent(new Event('close'));
    }
  }
  return CircuitWebSocket as unknown as typeof WebSocket;
}
