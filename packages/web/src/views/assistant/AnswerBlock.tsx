// One question and its answer: what the checks found on this node (severity, title, evidence),
// the answer citing [n] its sources, the suggested steps as buttons, and the sources, each opening
// the place of the app it talks about.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AssistantAnswer, Finding, Source } from '../../api/assistant-api.ts';
import type { Turn } from '../../state/assistant-store.ts';
import { IndeterminateBar } from '../../components/ui.tsx';
import { ActionButton } from './ActionButton.tsx';
import { AnswerText, citation, type Cite } from './AnswerText.tsx';

const SEVERITY_LABEL: Record<Finding['severity'], string> = { problem: 'Problem', warning: 'Warning', ok: 'OK', info: 'Note' };

const PLACE: Record<string, string> = {
  torrents: 'Torrents', share: 'Share', add: 'Add', rss: 'RSS', chat: 'Chat', network: 'Network', settings: 'Settings', assistant: 'Assistant',
};

/** "#/settings" → "Settings"; "#/torrents/<hash>" → "Torrents". */
export function placeName(ui: string): string {
  const first = ui.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return PLACE[first] ?? first;
}

// The built-in answer repeats each finding as a "- **Problem:** …" line; the cards above show them.
const FINDING_LINE = /^\s*-\s+\*\*(Problem|Warning|OK|Note):\*\*/;

export function AnswerBlock({ turn, torrentName, onFollowUp, busy }: { turn: Turn; torrentName: string | undefined; onFollowUp: (q: string) => void; busy: boolean }) {
  const [highlight, setHighlight] = useState<number>();
  const listRef = useRef<HTMLOListElement>(null);
  const a = turn.answer;

  const show = useCallback((n: number) => {
    const link = listRef.current?.querySelector<HTMLElement>(`[data-n="${n}"]`);
    link?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    link?.querySelector<HTMLElement>('a, [tabindex]')?.focus({ preventScroll: true });
    setHighlight(n);
  }, []);
  useEffect(() => {
    if (highlight === undefined) return;
    const t = setTimeout(() => setHighlight(undefined), 1800);
    return () => clearTimeout(t);
  }, [highlight]);

  const cite: Cite | undefined = a ? { sources: a.sources, show } : undefined;
  const pending = turn.status === 'asking' || turn.status === 'streaming';

  return (
    <article className="assistant-turn" data-testid="assistant-answer" data-status={turn.status} aria-busy={pending}>
      <div className="assistant-q">
        <span className="visually-hidden">You asked: </span>
        <div className="assistant-q-text">{turn.question}</div>
        {turn.infoHash && (
          <div className="muted small assistant-q-about">
            about <a href={`#/torrents/${turn.infoHash}`}>{torrentName ?? turn.infoHash.slice(0, 12)}</a>
          </div>
        )}
      </div>
      <div className="assistant-a">
        {turn.status === 'asking' && (
          <div className="assistant-waiting muted small">
            <IndeterminateBar label="Checking this node and the help" />
            <span>{turn.infoHash ? 'Checking the torrent and this node…' : 'Checking this node and the help…'}</span>
          </div>
        )}
        {!a && turn.streamed && (
          <div className="assistant-streaming" data-testid="assistant-streaming">
            <AnswerText text={turn.streamed} tail={turn.status === 'streaming' ? <span className="assistant-caret" aria-hidden="true" /> : undefined} />
          </div>
        )}
        {turn.status === 'error' && (
          <div className="alert alert-error" role="alert" data-testid="assistant-error">
            {turn.error}
            {!busy && (
              <>
                {' '}
                <button type="button" className="linklike cite-more" onClick={() => onFollowUp(turn.question)}>
                  Ask again
                </button>
              </>
            )}
          </div>
        )}
        {a && <Answer answer={a} cite={cite!} highlight={highlight} listRef={listRef} onCheckAgain={() => onFollowUp('and now?')} canCheckAgain={!busy} />}
      </div>
    </article>
  );
}

function Answer({
  answer,
  cite,
  highlight,
  listRef,
  onCheckAgain,
  canCheckAgain,
}: {
  answer: AssistantAnswer;
  cite: Cite;
  highlight: number | undefined;
  listRef: React.RefObject<HTMLOListElement | null>;
  onCheckAgain: () => void;
  canCheckAgain: boolean;
}) {
  const index = new Map(answer.sources.map((s, i) => [s.id, i + 1]));
  const skipFindingLines = answer.answeredBy === 'built-in' && answer.findings.length > 0;
  return (
    <>
      {answer.findings.length > 0 && (
        <ul className="assistant-findings" aria-label="What the checks found">
          {answer.findings.map((f, i) => (
            <li key={`${f.id}-${i}`} className={`assistant-finding sev-${f.severity}`} data-testid="assistant-finding" data-finding-id={f.id} data-severity={f.severity}>
              <span className={`badge sev-badge sev-badge-${f.severity}`}>{SEVERITY_LABEL[f.severity] ?? f.severity}</span>
              <div className="assistant-finding-main">
                <div className="assistant-finding-title">
                  {f.title}
                  {f.entries.map((id) => {
                    const n = index.get(id);
                    return n ? <span key={id}> {citation(n, id, cite)}</span> : null;
                  })}
                </div>
                {f.evidence && <div className="assistant-evidence small" data-testid="assistant-evidence">{f.evidence}</div>}
              </div>
            </li>
          ))}
        </ul>
      )}
      {answer.answer && <AnswerText text={answer.answer} cite={cite} skip={skipFindingLines ? (l) => FINDING_LINE.test(l) : undefined} />}
      {answer.actions.length > 0 && (
        <div className="assistant-actions" aria-label="Suggested steps">
          {answer.actions.map((act, i) => (
            <ActionButton key={`${act.id}-${i}`} action={act} onCheckAgain={onCheckAgain} canCheckAgain={canCheckAgain} />
          ))}
        </div>
      )}
      {answer.sources.length > 0 && (
        <div className="assistant-sources-box">
          <div className="muted small">Sources</div>
          <ol className="assistant-sources" ref={listRef}>
            {answer.sources.map((s, i) => (
              <SourceItem key={s.id} source={s} n={i + 1} lit={highlight === i + 1} />
            ))}
          </ol>
        </div>
      )}
      <div className="muted small assistant-by" data-testid="assistant-answered-by">
        {answer.answeredBy === 'built-in' ? 'Answered from this node and the built-in help' : `Written by ${answer.answeredBy} from this node's checks and the built-in help`}
      </div>
    </>
  );
}

function SourceItem({ source, n, lit }: { source: Source; n: number; lit: boolean }) {
  return (
    <li className={lit ? 'lit' : undefined} data-n={n} data-testid="assistant-source" data-source-id={source.id}>
      {source.ui ? (
        <a href={source.ui}>
          {source.title}
          <span className="muted small"> — {placeName(source.ui)}</span>
        </a>
      ) : (
        <span tabIndex={-1}>{source.title}</span>
      )}
    </li>
  );
}
