// The Assistant (#/assistant): questions about this node answered from its own state (the checks'
// findings) and the built-in help, with the sources cited and the suggested steps as buttons.
// #/assistant?torrent=<infohash> asks about that torrent (its checks run first); &ask=<question>
// asks at once (the detail panel's "Ask about this torrent") and is then dropped from the address.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { replaceRoute, useRoute, assistantHref, type Route } from '../state/router.ts';
import { useAuth } from '../state/auth.ts';
import { useLive } from '../state/live.ts';
import { ask, isBusy, loadAssistantInfo, newConversation, setAssistantOwner, stopAsking, useAssistant, type AssistantState } from '../state/assistant-store.ts';
import { AnswerBlock } from './assistant/AnswerBlock.tsx';
import { IconX } from '../components/icons.tsx';
import './assistant/assistant.css';

const MAX_QUESTION = 2000;
const HASH = /^[0-9a-f]{40}$/i;

const EXAMPLES = [
  'My download is stuck at 0%',
  'Why is my download so slow?',
  'Can other peers connect to me?',
  'How do I share a folder?',
  'How do I limit upload speed at night?',
];

// Routes whose ?ask= was asked already (StrictMode runs effects twice; a new click makes a new Route).
const asked = new WeakSet<Route>();

export function AssistantView() {
  const route = useRoute();
  const auth = useAuth();
  const live = useLive();
  const s = useAssistant();
  const [draft, setDraft] = useState('');
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const endRef = useRef<HTMLDivElement>(null);

  const torrentParam = route.query.get('torrent') ?? '';
  const torrent = HASH.test(torrentParam) ? torrentParam.toLowerCase() : undefined;
  const nameOf = (ih: string | undefined) => (ih ? (live.torrents.find((t) => t.infoHashHex === ih)?.name ?? undefined) : undefined);
  const busy = isBusy(s);

  useEffect(() => setAssistantOwner(`${auth.did ?? ''}|${auth.address ?? ''}`), [auth.did, auth.address]);
  useEffect(() => {
    void loadAssistantInfo();
  }, []);

  // Opened with a question (the detail panel's button): ask it once, keep the torrent attached.
  const pendingAsk = route.query.get('ask');
  useEffect(() => {
    if (!pendingAsk || asked.has(route)) return;
    asked.add(route);
    replaceRoute(assistantHref(torrent ? { torrent } : {}));
    void (async () => {
      // The privacy line's read decides whether to stream: wait for it (it is quick).
      if (!s.info && !s.infoError) await loadAssistantInfo();
      await ask(pendingAsk.slice(0, MAX_QUESTION), torrent);
    })();
  }, [route, pendingAsk, torrent, s.info, s.infoError]);

  // Follow the conversation as it grows and as an answer streams in.
  const last = s.turns[s.turns.length - 1];
  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'nearest' });
  }, [s.turns.length, last?.status, last?.streamed.length]);

  const submit = (question: string) => {
    const q = question.trim();
    if (!q || busy) return;
    setDraft('');
    void ask(q, torrent);
    inputRef.current?.focus();
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit(draft);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter asks, Shift+Enter is a new line (as in chat boxes).
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit(draft);
    }
  };

  return (
    <section className="assistant-view narrow" aria-labelledby="assistant-title" data-testid="assistant-view">
      <div className="page-head">
        <div>
          <h1 id="assistant-title">Assistant</h1>
          <Privacy s={s} />
        </div>
        {s.turns.length > 0 && (
          <div className="head-actions">
            <button type="button" className="btn btn-small" onClick={newConversation} data-testid="assistant-new">
              New conversation
            </button>
          </div>
        )}
      </div>

      <div className="assistant-log" role="log" aria-label="Conversation">
        {s.turns.length === 0 && (
          <div className="assistant-intro card" data-testid="assistant-intro">
            <p>
              Ask in your own words. The assistant looks at this node — its torrents, trackers, peers, the DHT, whether anyone can connect in, the disk — and answers from what it finds and
              from Cascade's help, with buttons for the fixes it can make.
            </p>
            <div className="assistant-examples">
              {EXAMPLES.map((q) => (
                <button key={q} type="button" className="btn btn-small" onClick={() => submit(q)} disabled={busy}>
                  {q}
                </button>
              ))}
            </div>
          </div>
        )}
        {s.turns.map((turn) => (
          <AnswerBlock key={turn.key} turn={turn} torrentName={nameOf(turn.infoHash)} onFollowUp={(q) => submit(q)} busy={busy} />
        ))}
        <div ref={endRef} />
      </div>

      <form className="assistant-form" onSubmit={onSubmit}>
        {torrent && (
          <div className="assistant-about small" data-testid="assistant-torrent">
            <span>
              Asking about <strong>{nameOf(torrent) ?? torrent.slice(0, 12)}</strong>
            </span>
            <a className="icon-btn" href={assistantHref()} aria-label="Stop asking about this torrent" title="Stop asking about this torrent">
              <IconX />
            </a>
          </div>
        )}
        <div className="assistant-input-row">
          <label htmlFor="assistant-question" className="visually-hidden">
            Your question
          </label>
          <textarea
            id="assistant-question"
            ref={inputRef}
            className="input"
            rows={2}
            maxLength={MAX_QUESTION}
            placeholder={torrent ? 'What do you want to know about this torrent?' : 'e.g. my download is stuck at 0%'}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onKeyDown}
            data-testid="assistant-question"
          />
          {busy ? (
            <button type="button" className="btn" onClick={stopAsking} data-testid="assistant-stop">
              Stop
            </button>
          ) : (
            <button type="submit" className="btn btn-primary" disabled={!draft.trim()} data-testid="assistant-ask">
              Ask
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

/** Where the question goes: nowhere (built-in or a local model), or the LLM's host the user configured. */
function Privacy({ s }: { s: AssistantState }) {
  if (s.infoError) {
    return (
      <p className="muted small" data-testid="assistant-privacy" data-llm="unknown">
        Could not read the assistant's settings: {s.infoError}
      </p>
    );
  }
  if (!s.info) return <p className="muted small" data-testid="assistant-privacy" data-llm="unknown">&nbsp;</p>;
  const llm = s.info.llm;
  if (llm?.local) {
    return (
      <p className="muted small" data-testid="assistant-privacy" data-llm="local">
        Answers are written by the local model <strong>{llm.model}</strong> on this node; nothing leaves your machine.
      </p>
    );
  }
  return llm ? (
    <p className="assistant-privacy assistant-privacy-remote small" data-testid="assistant-privacy" data-llm="remote">
      Questions and this node's state are sent to <strong>{llm.host}</strong> ({llm.model}).
    </p>
  ) : (
    <p className="muted small" data-testid="assistant-privacy" data-llm="none">
      Answers come from this node and its built-in help; nothing leaves your machine.
    </p>
  );
}
