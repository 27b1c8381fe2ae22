// Who can read a share made through the node (issue 24): anyone with the magnet, only chosen people
// (their did:keys: the content is encrypted to each before the torrent is made), or anyone with the
// link (the key only in the link's #k= fragment). Recipients come from a pasted did, the people this
// browser shared with before, the node's users, and this browser's own identity.
import { useEffect, useState } from 'react';
import { recipientKeyFromDid } from '@cascade/private-shares';
import { authApi } from '../api/auth-api.ts';
import { isMember, useAuth, whoLabel } from '../state/auth.ts';

export type Audience = { kind: 'public' } | { kind: 'recipients'; dids: string[] } | { kind: 'link' };

const RECENT_KEY = 'cascade.shareRecipients';

/** The form fields the node reads before the files (routes/add.ts). */
export function appendAudience(fd: FormData, a: Audience): void {
  if (a.kind === 'recipients') for (const did of a.dids) fd.append('recipients', did);
  if (a.kind === 'link') fd.append('encrypt', 'true');
}

/** Why a pasted did cannot be a recipient, or undefined when it can. */
export function recipientProblem(did: string): string | undefined {
  if (!did.startsWith('did:key:')) return 'A recipient is a did:key:z6Mk… (their identity in Settings or in chat).';
  try {
    recipientKeyFromDid(did);
    return undefined;
  } catch (err) {
    return `Not a usable did:key: ${(err as Error).message}`;
  }
}

function loadRecent(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !recipientProblem(x)).slice(0, 20) : [];
  } catch {
    return [];
  }
}

/** Remembers recipients once a share for them is made, newest first. */
export function rememberRecipients(dids: string[]): void {
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify([...new Set([...dids, ...loadRecent()])].slice(0, 20)));
  } catch {}
}

/** The identities the picker offers: this browser's, chat contacts, the node's users, people shared with before. */
function useKnownIdentities(): { did: string; label: string }[] {
  const auth = useAuth();
  const member = isMember(auth);
  const [users, setUsers] = useState<string[]>([]);
  const [contacts, setContacts] = useState<{ did: string; name: string | null }[]>([]);
  useEffect(() => {
    if (!member) return;
    let live = true;
    authApi.users().then(
      (list) => live && setUsers(list.filter((u) => u.kind === 'did').map((u) => u.id)),
      () => {},
    );
    authApi.chatContacts().then(
      (list) => live && setContacts(list.filter((c) => !recipientProblem(c.did))),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [member]);
  const out = new Map<string, string>();
  if (auth.did) out.set(auth.did, `Me (${whoLabel({ did: auth.did, address: null })})`);
  for (const c of contacts) if (!out.has(c.did)) out.set(c.did, `Chat: ${c.name ? `${c.name} (${whoLabel({ did: c.did, address: null })})` : whoLabel({ did: c.did, address: null })}`);
  for (const did of users) if (!out.has(did)) out.set(did, `Node user ${whoLabel({ did, address: null })}`);
  for (const did of loadRecent()) if (!out.has(did)) out.set(did, `Shared with before: ${whoLabel({ did, address: null })}`);
  return [...out].map(([did, label]) => ({ did, label }));
}

export function ShareAudience({ value, onChange, disabled }: { value: Audience; onChange: (a: Audience) => void; disabled?: boolean }) {
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<string>();
  const known = useKnownIdentities();
  const dids = value.kind === 'recipients' ? value.dids : [];

  const add = (did: string) => {
    const d = did.trim();
    const why = recipientProblem(d);
    if (why) {
      setProblem(why);
      return;
    }
    setProblem(undefined);
    setDraft('');
    if (!dids.includes(d)) onChange({ kind: 'recipients', dids: [...dids, d] });
  };
  const choose = (kind: Audience['kind']) => onChange(kind === 'recipients' ? { kind, dids } : { kind });

  return (
    <fieldset className="share-audience" disabled={disabled}>
      <legend>Who can read it</legend>
      <label className="radio-row">
        <input type="radio" name="share-audience" checked={value.kind === 'public'} onChange={() => choose('public')} data-testid="share-audience-public" />
        <span>
          <strong>Public</strong> <span className="muted small">anyone with the magnet link</span>
        </span>
      </label>
      <label className="radio-row">
        <input type="radio" name="share-audience" checked={value.kind === 'recipients'} onChange={() => choose('recipients')} data-testid="share-audience-recipients" />
        <span>
          <strong>Only these people</strong> <span className="muted small">encrypted to each one's did:key; anyone may seed it, only they can read it</span>
        </span>
      </label>
      <label className="radio-row">
        <input type="radio" name="share-audience" checked={value.kind === 'link'} onChange={() => choose('link')} data-testid="share-audience-link" />
        <span>
          <strong>Anyone with the link</strong> <span className="muted small">encrypted; the key is only in the link you give</span>
        </span>
      </label>

      {value.kind === 'recipients' && (
        <div className="share-recipients-box">
          <div className="row gap wrap-row">
            <input
              type="text"
              className="input mono grow"
              placeholder="did:key:z6Mk…"
              aria-label="Recipient did:key"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  add(draft);
                }
              }}
              data-testid="share-recipient-input"
            />
            <button type="button" className="btn" onClick={() => add(draft)} data-testid="share-recipient-add">
              Add
            </button>
          </div>
          {problem && (
            <div className="error-text small" role="alert" data-testid="share-recipient-error">
              {problem}
            </div>
          )}
          {known.filter((k) => !dids.includes(k.did)).length > 0 && (
            <div className="row gap wrap-row small" data-testid="share-known">
              <span className="muted">Known:</span>
              {known
                .filter((k) => !dids.includes(k.did))
                .map((k) => (
                  <button type="button" key={k.did} className="btn btn-small btn-ghost" title={k.did} onClick={() => add(k.did)} data-testid="share-known-identity" data-did={k.did}>
                    + {k.label}
                  </button>
                ))}
            </div>
          )}
          <ul className="share-recipients" data-testid="share-recipients">
            {dids.length === 0 && <li className="muted small">No one yet: add at least one did:key.</li>}
            {dids.map((did) => (
              <li key={did} className="row between" data-testid="share-recipient" data-did={did}>
                <span className="mono small" title={did}>
                  {whoLabel({ did, address: null })}
                </span>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove ${did}`} onClick={() => onChange({ kind: 'recipients', dids: dids.filter((x) => x !== did) })}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {value.kind !== 'public' && (
        <p className="muted small" role="note" data-testid="share-private-note">
          {value.kind === 'recipients'
            ? 'Adding people later makes a new share (a new torrent and magnet). Once someone has the key, it cannot be taken back: they can read this share for good.'
            : 'Anyone you give the link to can read the share, and pass it on; a link once given cannot be taken back. The magnet alone gives only the encrypted data.'}
        </p>
      )}
    </fieldset>
  );
}
