// One suggested step of an answer. Generic on purpose: an action with `request` sends that call to
// the node's API with this page's session and shows what came back; one with `href` opens that
// place of the app; one with only `command` shows the command line. Removing things asks first.
import { useState } from 'react';
import { runActionRequest, type AssistantAction } from '../../api/assistant-api.ts';
import { refreshTorrents } from '../../state/live.ts';

type Outcome = { status: 'idle' } | { status: 'confirm' } | { status: 'busy' } | { status: 'done'; message: string } | { status: 'error'; message: string };

export function ActionButton({ action, onCheckAgain, canCheckAgain }: { action: AssistantAction; onCheckAgain: () => void; canCheckAgain: boolean }) {
  const [outcome, setOutcome] = useState<Outcome>({ status: 'idle' });
  const title = action.command ? `On the command line: ${action.command}` : undefined;

  if (action.href) {
    return (
      <a className="btn btn-small" href={action.href} title={title} data-testid="assistant-action" data-action-id={action.id}>
        {action.label}
      </a>
    );
  }
  const req = action.request;
  if (!req) {
    return action.command ? (
      <span className="assistant-command small" data-testid="assistant-action" data-action-id={action.id}>
        {action.label}: <code>{action.command}</code>
      </span>
    ) : null;
  }

  const destructive = req.method === 'DELETE';
  const run = async () => {
    if (destructive && outcome.status !== 'confirm') {
      setOutcome({ status: 'confirm' });
      return;
    }
    setOutcome({ status: 'busy' });
    try {
      const result = await runActionRequest(req);
      await refreshTorrents();
      setOutcome({ status: 'done', message: describeResult(result) });
    } catch (err) {
      setOutcome({ status: 'error', message: (err as Error).message });
    }
  };

  return (
    <span className="assistant-action-wrap">
      <button
        type="button"
        className={`btn btn-small${destructive && outcome.status === 'confirm' ? ' btn-danger' : ' btn-primary'}`}
        onClick={() => void run()}
        disabled={outcome.status === 'busy'}
        title={title}
        data-testid="assistant-action"
        data-action-id={action.id}
      >
        {outcome.status === 'busy' ? `${action.label}…` : outcome.status === 'confirm' ? `${action.label}: click again to confirm` : action.label}
      </button>
      {(outcome.status === 'done' || outcome.status === 'error') && (
        <span className={`assistant-outcome small ${outcome.status === 'done' ? 'ok-text' : 'error-text'}`} role="status" data-testid="assistant-action-result" data-status={outcome.status}>
          {outcome.message}
          {outcome.status === 'done' && canCheckAgain && (
            <>
              {' '}
              <button type="button" className="linklike cite-more" onClick={onCheckAgain} data-testid="assistant-check-again">
                Check again
              </button>
            </>
          )}
        </span>
      )}
    </span>
  );
}

const STATE_WORDS: Record<string, string> = {
  metadata: 'fetching its metadata',
  checking: 'checking its data',
  downloading: 'downloading',
  seeding: 'seeding',
  paused: 'paused',
  queued: 'queued',
  error: 'in error',
};

/** What the node answered, in a few words: a torrent's new state, its trackers' replies. */
export function describeResult(result: unknown): string {
  if (!result || typeof result !== 'object') return 'Done.';
  const r = result as { state?: unknown; name?: unknown; trackers?: unknown; results?: unknown };
  const parts: string[] = ['Done.'];
  if (typeof r.state === 'string') parts.push(`${typeof r.name === 'string' && r.name ? `"${r.name}"` : 'The torrent'} is now ${STATE_WORDS[r.state] ?? r.state}.`);
  if (Array.isArray(r.trackers) && r.trackers.length > 0) {
    const said = r.trackers
      .slice(0, 3)
      .map((t: { url?: unknown; status?: unknown; message?: unknown }) => `${String(t.url ?? '?')}: ${String(t.status ?? '?')}${typeof t.message === 'string' && t.message ? ` (${t.message})` : ''}`);
    parts.push(`Trackers — ${said.join('; ')}${r.trackers.length > 3 ? '; …' : ''}.`);
  }
  if (Array.isArray(r.results)) {
    const failed = r.results.filter((x: { ok?: unknown }) => x && x.ok === false).length;
    if (failed > 0) parts.push(`${failed} of ${r.results.length} failed.`);
  }
  return parts.join(' ');
}
