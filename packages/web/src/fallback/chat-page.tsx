// Stand-in for packages/chat/ui/ChatPage.tsx when the chat package has no UI in this build.
export interface ChatPageProps {
  url?: string;
  iceServers?: { urls: string | string[] }[];
  torrent?: { infohash: string; name?: string };
}

export function ChatPage(_props: ChatPageProps = {}) {
  return (
    <div className="empty" data-testid="chat-unavailable">
      <div className="empty-title">Chat is not part of this build</div>
      <div className="empty-body">Install the chat package (packages/chat/ui) and rebuild the web app.</div>
    </div>
  );
}
