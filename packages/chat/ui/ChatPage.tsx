// The chat page: identity card, conversations (direct chats, rooms, private groups), messages,
// the path in use (relay / p2p), safety numbers, invitations, and rejected-message notices.
// Test ids: chat-my-did, chat-new-dm, chat-room-list, chat-message-input, chat-send, chat-message, chat-path, chat-error.
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent } from 'react';
import type { ChatClient, ChatMessage, Conversation } from '../src/client/client.ts';
import { exportIdentity, fingerprint, importIdentity, safetyNumber, shortDid } from '../src/wire/identity.ts';
import { verifiedMembers } from '../src/wire/rooms.ts';
import { chatSession, type SessionOptions } from './session.ts';
import { CHAT_CSS } from './styles.ts';

export { openTorrentChat } from './session.ts';

export interface ChatPageProps extends SessionOptions {
  /** Open this torrent's room when the page shows. */
  torrent?: { infohash: string; name?: string };
}

const INFO_CODES = new Set(['invite']);

function Lock({ size = 12 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 16 16" aria-hidden="true" className="cc-lock">
      <rect x="3" y="7" width="10" height="7" rx="1.5" fill="currentColor" />
      <path d="M5 7V5a3 3 0 0 1 6 0v2" stroke="currentColor" strokeWidth="1.6" fill="none" />
    </svg>
  );
}

export function ChatPage(props: ChatPageProps = {}) {
  useSyncExternalStore(chatSession.subscribe, chatSession.snapshot);
  useEffect(() => {
    void chatSession.start({ url: props.url, iceServers: props.iceServers });
  }, [props.url, props.iceServers]);
  useEffect(() => {
    if (props.torrent) chatSession.openTorrentRoom(props.torrent.infohash, props.torrent.name);
  }, [props.torrent?.infohash, props.torrent?.name]);

  const client = chatSession.client;
  return (
    <div className="cc-root" data-testid="chat-page">
      <style>{CHAT_CSS}</style>
      {chatSession.error && <div className="cc-notice cc-bad" data-testid="chat-error">{chatSession.error}</div>}
      {!client ? (
        <div className="cc-empty">Preparing your chat identity…</div>
      ) : (
        <>
          <aside className="cc-side">
            <IdentityCard client={client} />
            <StartForms client={client} />
            <Invites client={client} />
            <RoomList client={client} />
          </aside>
          <Conversation client={client} />
        </>
      )}
    </div>
  );
}

function IdentityCard({ client }: { client: ChatClient }) {
  const me = client.me;
  const [name, setName] = useState(me.name);
  const [mode, setMode] = useState<'none' | 'export' | 'import'>('none');
  const [pass, setPass] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [status, setStatus] = useState<string>('');
  const [copied, setCopied] = useState(false);
  useEffect(() => setName(me.name), [me]);

  const saveName = () => {
    if (name.trim() !== me.name) void chatSession.rename(name.trim());
  };
  const doExport = async (e: FormEvent) => {
    e.preventDefault();
    if (pass.length < 8) return setStatus('Use a passphrase of at least 8 characters.');
    setStatus('Encrypting…');
    const text = await exportIdentity(me, pass);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    a.download = `cascade-identity-${me.did.slice(-8)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    setPass('');
    setStatus('Saved. Keep the file and the passphrase apart.');
  };
  const doImport = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return setStatus('Choose an identity file.');
    setStatus('Decrypting…');
    try {
      const id = await importIdentity(await file.text(), pass);
      if (id.did !== me.did && !window.confirm(`Replace this browser's identity (${shortDid(me.did)}) with ${shortDid(id.did)}?`)) {
        setStatus('');
        return;
      }
      await chatSession.replaceIdentity(id);
      setPass('');
      setMode('none');
      setStatus('');
    } catch (err) {
      setStatus((err as Error).message);
    }
  };

  return (
    <section className="cc-card cc-me" aria-label="Your chat identity">
      <div className="cc-me-head">
        <span className={`cc-dot ${client.ready ? 'cc-on' : ''}`} title={client.ready ? 'Connected' : 'Connecting…'} data-testid="chat-connection" data-ready={client.ready ? 'yes' : 'no'} />
        <input className="cc-name" value={name} placeholder="Your display name" aria-label="Your display name" maxLength={64} data-testid="chat-my-name"
          onChange={(e) => setName(e.target.value)} onBlur={saveName} onKeyDown={(e) => e.key === 'Enter' && (e.currentTarget.blur())} />
      </div>
      <div className="cc-did" title="Your identifier: share it so others can message you">
        <code data-testid="chat-my-did">{me.did}</code>
        <button type="button" className="cc-link" onClick={() => {
          void navigator.clipboard?.writeText(me.did).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1500); });
        }}>{copied ? 'copied' : 'copy'}</button>
      </div>
      <div className="cc-fp">Fingerprint <code data-testid="chat-my-fingerprint">{fingerprint(me.did)}</code></div>
      <div className="cc-row">
        <button type="button" className="cc-btn cc-small" data-testid="chat-export" onClick={() => { setMode(mode === 'export' ? 'none' : 'export'); setStatus(''); }}>Export…</button>
        <button type="button" className="cc-btn cc-small" data-testid="chat-import" onClick={() => { setMode(mode === 'import' ? 'none' : 'import'); setStatus(''); }}>Import…</button>
      </div>
      {mode === 'export' && (
        <form className="cc-sub" onSubmit={doExport}>
          <input type="password" placeholder="Passphrase to encrypt the file" aria-label="Passphrase to encrypt the exported identity file" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="chat-export-pass" autoComplete="new-password" />
          <button className="cc-btn cc-primary cc-small" type="submit">Download encrypted identity</button>
        </form>
      )}
      {mode === 'import' && (
        <form className="cc-sub" onSubmit={doImport}>
          <input type="file" accept="application/json,.json" aria-label="Identity file to import" onChange={(e) => setFile(e.target.files?.[0])} data-testid="chat-import-file" />
          <input type="password" placeholder="Passphrase" aria-label="Passphrase of the identity file" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="chat-import-pass" autoComplete="current-password" />
          <button className="cc-btn cc-primary cc-small" type="submit">Import identity</button>
        </form>
      )}
      {status && <div className="cc-muted cc-status">{status}</div>}
    </section>
  );
}

function StartForms({ client }: { client: ChatClient }) {
  const [dm, setDm] = useState('');
  const [room, setRoom] = useState('');
  const [group, setGroup] = useState('');
  const [err, setErr] = useState('');
  useEffect(() => setErr(''), [client.active]);
  const run = (fn: () => Promise<unknown> | unknown, clear: () => void) => {
    setErr('');
    Promise.resolve().then(fn).then(clear, (e: Error) => setErr(e.message));
  };
  return (
    <section className="cc-start">
      <input className="cc-input" value={dm} placeholder="Direct chat: paste a did:key, press Enter" aria-label="Start a direct chat with a did:key" data-testid="chat-new-dm" spellCheck={false}
        onChange={(e) => setDm(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && dm.trim()) run(() => client.openDm(dm.trim()), () => setDm('')); }} />
      <input className="cc-input" value={room} placeholder="Join a room: name, infohash or group id" aria-label="Join a room by name, infohash or group id" data-testid="chat-join-room" spellCheck={false}
        onChange={(e) => setRoom(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && room.trim()) run(() => client.join(room.trim()), () => setRoom('')); }} />
      <input className="cc-input" value={group} placeholder="New private group: name, press Enter" aria-label="Name of a new private group" data-testid="chat-new-group"
        onChange={(e) => setGroup(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && group.trim()) run(() => client.createGroup(group.trim()), () => setGroup('')); }} />
      {err && <div className="cc-notice cc-bad" data-testid="chat-error" role="alert">{err}</div>}
    </section>
  );
}

function Invites({ client }: { client: ChatClient }) {
  if (client.invites.length === 0) return null;
  return (
    <section className="cc-invites" aria-label="Invitations">
      {client.invites.map((i) => (
        <div key={i.invitation.room} className="cc-invite" data-testid="chat-invite" data-room={i.invitation.room}>
          <div><b>{i.charter.name}</b> <span className="cc-muted">from {client.displayName(i.charter.creator)}</span></div>
          <button type="button" className="cc-btn cc-primary cc-small" data-testid="chat-invite-accept"
            onClick={() => void client.join(i.invitation.room, { invitation: i.invitation }).catch(() => {})}>Join</button>
        </div>
      ))}
    </section>
  );
}

function kindLabel(c: Conversation): string {
  return c.kind === 'dm' ? 'direct' : c.kind === 'torrent' ? 'torrent' : c.kind === 'private' ? 'private group' : 'public room';
}

function RoomList({ client }: { client: ChatClient }) {
  const convs = client.sortedConversations();
  const joined = new Set(convs.map((c) => c.id));
  const suggestions = client.directory.filter((d) => !joined.has(d.id)).slice(0, 5);
  return (
    <nav className="cc-list" aria-label="Conversations">
      <ul data-testid="chat-room-list">
        {convs.map((c) => {
          const last = c.messages.at(-1);
          const online = c.kind === 'dm' && c.peer && client.online.has(c.peer);
          return (
            <li key={c.id}>
              <button type="button" className={`cc-entry${client.active === c.id ? ' cc-active' : ''}`} data-testid="chat-room-entry" data-conv={c.id}
                onClick={() => client.setActive(c.id)}>
                <span className="cc-entry-top">
                  {c.kind === 'dm' ? <span className={`cc-dot ${online ? 'cc-on' : ''}`} /> : <span className="cc-hash">{c.kind === 'private' ? <Lock size={11} /> : '#'}</span>}
                  <span className="cc-entry-title">{client.title(c.id)}</span>
                  {c.unread > 0 && <span className="cc-badge" data-testid="chat-unread">{c.unread}</span>}
                </span>
                <span className="cc-entry-sub">{c.kind === 'dm' ? c.peer : `${kindLabel(c)} · ${c.id}`}</span>
                {last && <span className="cc-entry-last">{last.from === client.me.did ? 'You: ' : ''}{last.text}</span>}
              </button>
            </li>
          );
        })}
      </ul>
      {convs.length === 0 && <div className="cc-muted cc-pad">No conversations yet. Share your did:key, or join a room.</div>}
      {suggestions.length > 0 && (
        <div className="cc-directory">
          <div className="cc-muted cc-small-title">Rooms on this node</div>
          {suggestions.map((d) => (
            <button type="button" key={d.id} className="cc-link cc-dir" onClick={() => void client.join(d.id).catch(() => {})}>
              # {d.name} <span className="cc-muted">({d.members})</span>
            </button>
          ))}
        </div>
      )}
    </nav>
  );
}

function Notices({ client }: { client: ChatClient }) {
  if (client.notices.length === 0) return null;
  return (
    <div className="cc-notices">
      {client.notices.slice(-4).map((n) => (
        <div key={n.n} className={`cc-notice ${INFO_CODES.has(n.code) ? 'cc-info' : 'cc-bad'}`} role={INFO_CODES.has(n.code) ? 'status' : 'alert'}
          data-testid={INFO_CODES.has(n.code) ? 'chat-notice' : 'chat-error'} data-code={n.code}>
          <span>{n.text}</span>
          <button type="button" className="cc-link" aria-label="Dismiss" onClick={() => client.dismissNotice(n.n)}>×</button>
        </div>
      ))}
    </div>
  );
}

function Conversation({ client }: { client: ChatClient }) {
  const c = client.active ? client.conversations.get(client.active) : undefined;
  const [text, setText] = useState('');
  const [err, setErr] = useState('');
  const [showSafety, setShowSafety] = useState(false);
  const [invitee, setInvitee] = useState('');
  const listRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // keep the newest message in view unless the user scrolled up to read
  useLayoutEffect(() => {
    const el = listRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => { stick.current = true; }, [c?.id]);
  useEffect(() => { setShowSafety(false); setErr(''); }, [c?.id]);

  if (!c) {
    return (
      <section className="cc-main cc-main-empty" aria-label="Conversation">
        <Notices client={client} />
        <div className="cc-empty">
          <div className="cc-empty-title">Private, end-to-end encrypted chat</div>
          <div className="cc-muted">Messages are encrypted in your browser; the node only stores and relays ciphertext. Start a direct chat with someone’s did:key, or join a room.</div>
        </div>
      </section>
    );
  }

  const send = () => {
    const body = text.trim();
    if (!body) return;
    setErr('');
    client.sendText(c.id, body).then(() => setText(''), (e: Error) => setErr(e.message));
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  };
  const path = client.pathOf(c.id);
  const typing = client.typingIn(c.id);
  const isAdmin = c.room?.charter?.creator === client.me.did;
  const members = c.room ? verifiedMembers(c.room).members : [];

  return (
    <section className="cc-main" aria-label={`Conversation ${client.title(c.id)}`}>
      <header className="cc-head">
        <div className="cc-head-title">
          <h2 data-testid="chat-title">{client.title(c.id)}</h2>
          <div className="cc-muted cc-head-sub">
            {c.kind === 'dm'
              ? <>{c.peer !== client.me.did && (client.online.has(c.peer!) ? 'online' : 'offline')} · <code>{shortDid(c.peer!)}</code></>
              : <>{kindLabel(c)} · {members.length} member{members.length === 1 ? '' : 's'}</>}
          </div>
        </div>
        <div className="cc-head-actions">
          {c.kind === 'dm' && (
            <span className={`cc-path cc-path-${path}`} data-testid="chat-path" title={path === 'p2p' ? 'Direct WebRTC data channel to your peer' : 'Through the node’s relay (still end-to-end encrypted)'}>{path}</span>
          )}
          <span className="cc-e2e" title="End-to-end encrypted: X25519 + XChaCha20-Poly1305, signed with Ed25519"><Lock /> end-to-end encrypted</span>
          {c.kind === 'dm' && c.peer !== client.me.did && (
            <button type="button" className="cc-btn cc-small" data-testid="chat-safety-toggle" onClick={() => setShowSafety(!showSafety)}>Safety number</button>
          )}
          {c.kind !== 'dm' && (
            <button type="button" className="cc-btn cc-small" data-testid="chat-leave" onClick={() => void client.leave(c.id).catch((e: Error) => setErr(e.message))}>Leave</button>
          )}
        </div>
      </header>
      {showSafety && c.peer && (
        <section className="cc-safety" data-testid="chat-safety">
          <div>Compare this number with {client.title(c.id)} in person or over a call. If it matches on both screens, nobody is in the middle.</div>
          <code className="cc-safety-number" data-testid="chat-safety-number">{safetyNumber(client.me.did, c.peer)}</code>
          <div className="cc-muted">Your fingerprint <code>{fingerprint(client.me.did)}</code> · theirs <code>{fingerprint(c.peer)}</code></div>
        </section>
      )}
      {c.kind !== 'dm' && (
        <details className="cc-members">
          <summary>Members</summary>
          <ul>
            {members.map((m) => <li key={m}><span className={`cc-dot ${client.online.has(m) ? 'cc-on' : ''}`} /> {client.displayName(m)} <code className="cc-muted">{shortDid(m)}</code></li>)}
            {c.rejected.map((m) => <li key={m} className="cc-bad-text">{shortDid(m)} — no valid invitation, not given the key</li>)}
          </ul>
          {isAdmin && (
            <form className="cc-row" onSubmit={(e) => {
              e.preventDefault();
              setErr('');
              client.invite(c.id, invitee).then(() => setInvitee(''), (x: Error) => setErr(x.message));
            }}>
              <input className="cc-input" placeholder="Invite by did:key" aria-label="Invite to this group by did:key" value={invitee} onChange={(e) => setInvitee(e.target.value)} data-testid="chat-invite-input" spellCheck={false} />
              <button type="submit" className="cc-btn cc-small" data-testid="chat-invite-send">Invite</button>
            </form>
          )}
        </details>
      )}
      <Notices client={client} />
      <div className="cc-messages" ref={listRef} data-testid="chat-messages"
        onScroll={(e) => { const el = e.currentTarget; stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40; }}>
        {c.messages.length === 0 && <div className="cc-muted cc-pad">No messages yet.</div>}
        {c.messages.map((m, i) => <Message key={m.id} m={m} client={client} showName={c.kind !== 'dm' && (i === 0 || c.messages[i - 1]!.from !== m.from)} />)}
      </div>
      <div className="cc-typing" data-testid="chat-typing">{typing.length > 0 ? `${typing.map((d) => client.displayName(d)).join(', ')} typing…` : ''}</div>
      {err && <div className="cc-notice cc-bad" data-testid="chat-error" role="alert">{err}</div>}
      <div className="cc-compose">
        <input className="cc-input" value={text} placeholder={`Message ${client.title(c.id)}`} aria-label={`Message to ${client.title(c.id)}`} maxLength={4000} data-testid="chat-message-input"
          onChange={(e) => { setText(e.target.value); client.notifyTyping(c.id); }} onKeyDown={onKey} />
        <button type="button" className="cc-btn cc-primary" data-testid="chat-send" onClick={send} disabled={!text.trim()}>Send</button>
      </div>
    </section>
  );
}

function Message({ m, client, showName }: { m: ChatMessage; client: ChatClient; showName: boolean }) {
  const mine = m.from === client.me.did;
  const time = new Date(m.ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const status = m.status === 'sending' ? 'sending…' : m.status === 'failed' ? 'not sent' : m.via === 'p2p' ? 'p2p' : '';
  return (
    <div className={`cc-msg${mine ? ' cc-mine' : ''}${m.status === 'failed' ? ' cc-failed' : ''}`} data-testid="chat-message" data-from={m.from} data-status={m.status} data-via={m.via}>
      {showName && !mine && <div className="cc-msg-name">{client.displayName(m.from)}</div>}
      <div className="cc-bubble">{m.text}</div>
      <div className="cc-msg-meta">{time}{status && ` · ${status}`}</div>
    </div>
  );
}
