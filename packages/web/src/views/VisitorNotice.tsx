// What a signed-in visitor sees instead of the node's torrents: why, and the id to hand the owner.
import { useAuth } from '../state/auth.ts';
import { CopyButton } from '../components/ui.tsx';

export function VisitorNotice() {
  const auth = useAuth();
  const id = auth.did ?? auth.address ?? '';
  return (
    <div className="visitor-notice" role="note" data-testid="visitor-notice">
      <div>
        <p>
          <strong>You are signed in as a visitor;</strong> the node's owner can add you as a member: <code className="mono">{id}</code>
        </p>
        <p className="muted small">
          Until then the node's torrents stay hidden. You can download and share from this browser over WebRTC, and chat. This page notices by itself when you are added.
        </p>
        <div className="visitor-did">
          <CopyButton text={id} label="Copy my id" testId="visitor-copy-id" />
        </div>
      </div>
    </div>
  );
}
