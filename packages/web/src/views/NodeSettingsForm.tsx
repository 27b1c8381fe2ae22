// The node's own settings (GET/PATCH /api/settings): speed limits and the alternative ("turtle")
// limits with their schedule, the queue, seeding goals, where downloads go, the public URL. Only the
// changed fields are sent; the node checks them as a whole and names the field it refuses. Members
// may read them; only the owner may change them (the form says so instead of failing).
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { nodeOptions, settingsChanged, type NodeSettings } from '../api/node-options.ts';
import { parseRate, rateText } from '../format/rates.ts';
import { useAuth } from '../state/auth.ts';
import { useShareWarning } from '../state/share-warning.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** What the form edits, as the inputs hold it (text for numbers, so half-typed values survive). */
interface Draft {
  downloadLimit: string;
  uploadLimit: string;
  altDownloadLimit: string;
  altUploadLimit: string;
  altSpeedEnabled: boolean;
  scheduleEnabled: boolean;
  from: string;
  to: string;
  days: number[];
  maxActiveDownloads: string;
  maxActiveUploads: string;
  maxActiveTorrents: string;
  maxActiveChecks: string;
  stalledTimeout: string;
  ratioLimit: string;
  /** Minutes, as qBittorrent shows it. */
  seedingTimeLimit: string;
  seedingLimitAction: 'pause' | 'remove';
  downloadDir: string;
  publicUrl: string;
  startPaused: boolean;
  lsd: boolean;
}

function draftOf(s: NodeSettings): Draft {
  return {
    downloadLimit: rateText(s.downloadLimit),
    uploadLimit: rateText(s.uploadLimit),
    altDownloadLimit: rateText(s.altDownloadLimit),
    altUploadLimit: rateText(s.altUploadLimit),
    altSpeedEnabled: s.altSpeedEnabled,
    scheduleEnabled: s.altSpeedSchedule.enabled,
    from: s.altSpeedSchedule.from,
    to: s.altSpeedSchedule.to,
    days: [...s.altSpeedSchedule.days].sort(),
    maxActiveDownloads: String(s.maxActiveDownloads),
    maxActiveUploads: String(s.maxActiveUploads),
    maxActiveTorrents: String(s.maxActiveTorrents),
    maxActiveChecks: String(s.maxActiveChecks),
    stalledTimeout: String(s.stalledTimeout),
    ratioLimit: s.ratioLimit === null ? '' : String(s.ratioLimit),
    seedingTimeLimit: s.seedingTimeLimit === null ? '' : String(Math.round(s.seedingTimeLimit / 60)),
    seedingLimitAction: s.seedingLimitAction,
    downloadDir: s.downloadDir,
    publicUrl: s.publicUrl ?? '',
    startPaused: s.startPaused,
    lsd: s.lsd,
  };
}

/** The settings the draft stands for, or the first problem (named like the field). */
export function settingsOf(d: Draft): Partial<NodeSettings> | string {
  const out: Partial<NodeSettings> = {};
  for (const k of ['downloadLimit', 'uploadLimit', 'altDownloadLimit', 'altUploadLimit'] as const) {
    const v = parseRate(d[k]);
    if (typeof v === 'string') return v;
    out[k] = v;
  }
  for (const k of ['maxActiveDownloads', 'maxActiveUploads', 'maxActiveTorrents', 'maxActiveChecks', 'stalledTimeout'] as const) {
    const v = d[k].trim() === '' ? 0 : Number(d[k]);
    if (!Number.isInteger(v) || v < 0) return `${LABEL[k]}: a whole number, 0 for none`;
    out[k] = v;
  }
  const ratio = d.ratioLimit.trim() === '' ? null : Number(d.ratioLimit);
  if (ratio !== null && (!Number.isFinite(ratio) || ratio < 0)) return 'Ratio limit: a number such as 2 or 1.5, or empty for none';
  out.ratioLimit = ratio;
  const minutes = d.seedingTimeLimit.trim() === '' ? null : Number(d.seedingTimeLimit);
  if (minutes !== null && (!Number.isInteger(minutes) || minutes < 0)) return 'Seeding time limit: whole minutes, or empty for none';
  out.seedingTimeLimit = minutes === null ? null : minutes * 60;
  out.seedingLimitAction = d.seedingLimitAction;
  out.altSpeedEnabled = d.altSpeedEnabled;
  out.altSpeedSchedule = { enabled: d.scheduleEnabled, from: d.from, to: d.to, days: d.days };
  out.downloadDir = d.downloadDir.trim();
  out.publicUrl = d.publicUrl.trim() === '' ? null : d.publicUrl.trim();
  out.startPaused = d.startPaused;
  out.lsd = d.lsd;
  return out;
}

const LABEL: Record<string, string> = {
  maxActiveDownloads: 'Active downloads at most',
  maxActiveUploads: 'Active uploads (seeding) at most',
  maxActiveTorrents: 'Active torrents at most',
  maxActiveChecks: 'Torrents checked at once',
  stalledTimeout: 'A stalled download leaves its slot after (s)',
};

/** Only what differs from what the node has (JSON compare: the schedule is an object). */
function changed(next: Partial<NodeSettings>, now: NodeSettings): Partial<NodeSettings> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (JSON.stringify(v) !== JSON.stringify((now as unknown as Record<string, unknown>)[k])) out[k] = v;
  }
  return out as Partial<NodeSettings>;
}

export function NodeSettingsForm() {
  const auth = useAuth();
  const owner = auth.status === 'open' || auth.role === 'owner';
  const [settings, setSettings] = useState<NodeSettings>();
  const [draft, setDraft] = useState<Draft>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');
  const share = useShareWarning(true);

  useEffect(() => {
    let live = true;
    nodeOptions
      .settings()
      .then((s) => {
        if (!live) return;
        setSettings(s);
        setDraft(draftOf(s));
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, []);

  // Changed elsewhere in the page (the top bar's turtle): take the new values into the fields the
  // person has not touched, and measure later changes against them.
  const latest = useRef({ settings, draft });
  latest.current = { settings, draft };
  useEffect(() => {
    const changed = (e: Event) => {
      const next = (e as CustomEvent<NodeSettings>).detail;
      const { settings: before, draft: now } = latest.current;
      if (!before || !now) return;
      const was = draftOf(before);
      const fresh = draftOf(next);
      const merged = { ...now };
      for (const k of Object.keys(fresh) as (keyof Draft)[]) {
        if (JSON.stringify(now[k]) === JSON.stringify(was[k])) (merged as Record<string, unknown>)[k] = fresh[k];
      }
      setSettings(next);
      setDraft(merged);
    };
    settingsChanged.addEventListener('change', changed);
    return () => settingsChanged.removeEventListener('change', changed);
  }, []);

  if (!draft || !settings) {
    return <div className="card">{error ? <div className="alert alert-error" data-testid="settings-error">{error}</div> : <div className="muted">Loading the node’s settings…</div>}</div>;
  }
  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setStatus('idle');
  };
  const text = (key: keyof Draft, label: string, testId: string, opts: { hint?: ReactNode; placeholder?: string; mono?: boolean; type?: string } = {}) => (
    <div className="field">
      <label className="field-label" htmlFor={testId}>
        {label}
      </label>
      <input
        id={testId}
        className={`input${opts.mono ? ' mono' : ''}`}
        type={opts.type ?? 'text'}
        value={draft[key] as string}
        placeholder={opts.placeholder}
        disabled={!owner}
        onChange={(e) => set({ [key]: e.target.value } as Partial<Draft>)}
        data-testid={testId}
      />
      {opts.hint && <div className="muted small">{opts.hint}</div>}
    </div>
  );
  const check = (key: 'altSpeedEnabled' | 'scheduleEnabled' | 'startPaused' | 'lsd', label: string, testId: string) => (
    <label className="check">
      <input type="checkbox" checked={draft[key]} disabled={!owner} onChange={(e) => set({ [key]: e.target.checked })} data-testid={testId} />
      {label}
    </label>
  );

  const save = async () => {
    const next = settingsOf(draft);
    if (typeof next === 'string') {
      setError(next);
      return;
    }
    const patch = changed(next, settings);
    setError(undefined);
    if (Object.keys(patch).length === 0) {
      setStatus('saved');
      return;
    }
    setStatus('saving');
    try {
      const s = await nodeOptions.saveSettings(patch);
      setSettings(s);
      setDraft(draftOf(s));
      setStatus('saved');
      // A public URL (or its removal) changes what shared links lead to.
      if ('publicUrl' in patch) share.reload();
    } catch (err) {
      setError((err as Error).message);
      setStatus('idle');
    }
  };

  return (
    <form
      className="card form node-settings"
      aria-label="The node’s settings"
      data-testid="settings-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>Downloads and sharing</h2>
      {!owner && <p className="muted small">Only the node’s owner may change these.</p>}

      <fieldset className="settings-group">
        <legend>Speed limits</legend>
        <p className="muted small">Write e.g. 500k, 4M or 1.5 MiB/s (a bare number is KiB/s); empty or 0 is no limit.</p>
        <div className="settings-pair">
          {text('downloadLimit', 'Download', 'settings-download-limit', { placeholder: 'no limit' })}
          {text('uploadLimit', 'Upload', 'settings-upload-limit', { placeholder: 'no limit' })}
        </div>
        <div className="settings-pair">
          {text('altDownloadLimit', 'Alternative download', 'settings-alt-download-limit', { placeholder: 'no limit' })}
          {text('altUploadLimit', 'Alternative upload', 'settings-alt-upload-limit', { placeholder: 'no limit' })}
        </div>
        {check('altSpeedEnabled', 'Use the alternative limits now', 'settings-alt-enabled')}
        <div className="settings-schedule" data-testid="settings-alt-schedule-box">
          {check('scheduleEnabled', 'Use them on a schedule', 'settings-alt-schedule')}
          <div className="muted small">On a schedule the node switches them on where the window starts and off where it ends (local time of the node); switched by hand in between, they stay so until the next edge.</div>
          <div className="row gap wrap-row">
            <label className="small">
              from{' '}
              <input className="input input-time" type="time" value={draft.from} disabled={!owner || !draft.scheduleEnabled} onChange={(e) => set({ from: e.target.value })} data-testid="settings-alt-from" />
            </label>
            <label className="small">
              to{' '}
              <input className="input input-time" type="time" value={draft.to} disabled={!owner || !draft.scheduleEnabled} onChange={(e) => set({ to: e.target.value })} data-testid="settings-alt-to" />
            </label>
          </div>
          <div className="row gap wrap-row" role="group" aria-label="Days of the schedule">
            {DAYS.map((d, i) => (
              <label key={d} className="check day-check">
                <input
                  type="checkbox"
                  checked={draft.days.includes(i)}
                  disabled={!owner || !draft.scheduleEnabled}
                  onChange={(e) => set({ days: e.target.checked ? [...draft.days, i].sort() : draft.days.filter((x) => x !== i) })}
                  data-testid={`settings-alt-day-${i}`}
                />
                {d}
              </label>
            ))}
          </div>
        </div>
      </fieldset>

      <fieldset className="settings-group">
        <legend>Queue</legend>
        <div className="settings-pair">
          {text('maxActiveDownloads', LABEL.maxActiveDownloads!, 'settings-max-active-downloads', { type: 'number', hint: '0 = no limit; the rest wait as “Queued”.' })}
          {text('maxActiveUploads', LABEL.maxActiveUploads!, 'settings-max-active-uploads', { type: 'number', hint: '0 = no limit.' })}
        </div>
        <div className="settings-pair">
          {text('maxActiveTorrents', LABEL.maxActiveTorrents!, 'settings-max-active-torrents', { type: 'number', hint: '0 = no limit.' })}
          {text('stalledTimeout', LABEL.stalledTimeout!, 'settings-stalled-timeout', { type: 'number', hint: '0 = never.' })}
        </div>
        <div className="settings-pair">
          {text('maxActiveChecks', LABEL.maxActiveChecks!, 'settings-max-active-checks', { type: 'number', hint: 'Hashing the data on disk (checks, rechecks); the rest wait as “Checking” at 0%. 0 = no limit.' })}
        </div>
      </fieldset>

      <fieldset className="settings-group">
        <legend>Seeding goals</legend>
        <div className="settings-pair">
          {text('ratioLimit', 'Stop at ratio', 'settings-ratio-limit', { placeholder: 'no limit', hint: 'Uploaded ÷ downloaded, e.g. 2.' })}
          {text('seedingTimeLimit', 'Stop after seeding (minutes)', 'settings-seeding-time-limit', { placeholder: 'no limit', type: 'number' })}
        </div>
        <div className="field">
          <label className="field-label" htmlFor="settings-seeding-action">
            Then
          </label>
          <select id="settings-seeding-action" className="input" value={draft.seedingLimitAction} disabled={!owner} onChange={(e) => set({ seedingLimitAction: e.target.value as Draft['seedingLimitAction'] })} data-testid="settings-seeding-action">
            <option value="pause">pause the torrent</option>
            <option value="remove">remove the torrent (its data stays)</option>
          </select>
        </div>
      </fieldset>

      <fieldset className="settings-group">
        <legend>Where to save</legend>
        {text('downloadDir', 'Downloads go to', 'settings-download-dir', { mono: true, hint: 'Unless the add or its category names another folder.' })}
        {check('startPaused', 'Add new torrents paused', 'settings-start-paused')}
      </fieldset>

      <fieldset className="settings-group">
        <legend>Sharing</legend>
        {text('publicUrl', 'Public URL of this node', 'settings-public-url', {
          mono: true,
          placeholder: 'https://cascade.example.org',
          hint: 'How others reach this node: its tracker’s announce URLs in new torrents and magnets use it. Empty: the local addresses.',
        })}
        {check('lsd', 'Find peers on the local network (BEP 14 local service discovery)', 'settings-lsd')}
        {share.warning && (
          <div className="alert alert-warn" role="note" data-testid="share-warning">
            {share.warning}
          </div>
        )}
      </fieldset>

      {error && (
        <div className="alert alert-error" role="alert" data-testid="settings-error">
          {error}
        </div>
      )}
      <div className="row gap">
        <button type="submit" className="btn btn-primary" disabled={!owner || status === 'saving'} data-testid="settings-save">
          {status === 'saving' ? 'Saving…' : 'Save'}
        </button>
        {status === 'saved' && (
          <span className="muted small" role="status" data-testid="settings-saved">
            Saved — in force now.
          </span>
        )}
        <button type="button" className="btn btn-ghost" disabled={status === 'saving'} onClick={() => (setDraft(draftOf(settings)), setError(undefined), setStatus('idle'))}>
          Undo changes
        </button>
      </div>
    </form>
  );
}
