// Chat tab: the chat package's own page, loaded on demand (its crypto stays out of the main bundle).
// #/chat?torrent=<infohash>&name=<name> opens that torrent's room.
import { Component, lazy, Suspense, useMemo, type ReactNode } from 'react';
import { useRoute } from '../state/router.ts';
import { loadPeerConfig } from '../browser/browser-peer.ts';

const ChatPage = lazy(() => import('@cascade/chat/ui').then((m) => ({ default: m.ChatPage })));

class Boundary extends Component<{ children: ReactNode }, { error: Error | undefined }> {
  state = { error: undefined as Error | undefined };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (this.state.error) {
      return (
        <div className="alert alert-error" data-testid="chat-error">
          Chat failed to load: {this.state.error.message}
        </div>
      );
    }
    return this.props.children;
  }
}

export function ChatView() {
  const route = useRoute();
  const infohash = route.query.get('torrent') ?? undefined;
  const name = route.query.get('name') ?? undefined;
  const torrent = useMemo(() => (infohash ? { infohash, ...(name ? { name } : {}) } : undefined), [infohash, name]);
  // The same STUN/TURN choice as the in-browser peer, when this browser set one.
  const iceServers = useMemo(() => {
    const c = loadPeerConfig();
    return c.iceServersSet ? c.iceServers.map((urls) => ({ urls })) : undefined;
  }, []);
  return (
    <section className="chat-view" aria-labelledby="chat-title">
      <h1 id="chat-title" className="visually-hidden">Chat</h1>
      <Boundary>
        <Suspense fallback={<div className="muted pad">Loading chat…</div>}>
          <ChatPage {...(torrent ? { torrent } : {})} {...(iceServers ? { iceServers } : {})} />
        </Suspense>
      </Boundary>
    </section>
  );
}
