// The detail panel's Options tab: one torrent's own speed limits, category (one of the node's, or a
// new one), tags, seeding goals (the node's, none, or its own) and where its data lives (Move).
// Applied with PATCH /api/torrents/:infoHash; only what changed is sent, and the node's refusal
// (400 naming the field, 409 for a category it does not know) is shown as it says it.
import { useEffect, useState } from 'react';
import type { Category, TorrentDetailView } from '../../api/api.ts';
import { nodeOptions, optionsOf, parseTags, type TorrentOptions, type TorrentPatch } from '../../api/node-options.ts';
import { parseRate, rateText } from '../../format/rates.ts';
import { refreshTorrents } from '../../state/live.ts';

const NEW_CATEGORY = '\u0000new';
type GoalMode = 'default' | 'none' | 'custom';

interface Draft {
  downloadLimit: string;
  uploadLimit: string;
  category: string;
  newCategory: string;
  tags: string;
  ratioMode: GoalMode;
  ratio: string;
  timeMode: GoalMode;
  /** Minutes. */
  minutes: string;
}

const modeOf = (v: number | null): GoalMode => (v === null ? 'default' : v < 0 ? 'none' : 'custom');

function draftOf(o: TorrentOptions): Draft {
  return {
    downloadLimit: rateText(o.downloadLimit),
    uploadLimit: rateText(o.uploadLimit),
    category: o.category ?? '',
    newCategory: '',
    tags: o.tags.join(', '),
    ratioMode: modeOf(o.ratioLimit),
    ratio: o.ratioLimit !== null && o.ratioLimit >= 0 ? String(o.ratioLimit) : '',
    timeMode: modeOf(o.seedingTimeLimit),
    minutes: o.seedingTimeLimit !== null && o.seedingTimeLimit >= 0 ? String(Math.round(o.seedingTimeLimit / 60)) : '',
  };
}

/** The patch the draft asks for against `now` (changed fields only), or what is wrong with it. */
export function patchOf(d: Draft, now: TorrentOptions): { patch: TorrentPatch; newCategory?: string } | string {
  const patch: TorrentPatch = {};
  const down = parseRate(d.downloadLimit);
  if (typeof down === 'string') return `Download limit: ${down}`;
  const up = parseRate(d.uploadLimit);
  if (typeof up === 'string') return `Upload limit: ${up}`;
  if (down !== now.downloadLimit) patch.downloadLimit = down;
  if (up !== now.uploadLimit) patch.uploadLimit = up;

  let newCategory: string | undefined;
  let category: string | null = d.category === '' ? null : d.category;
  if (d.category === NEW_CATEGORY) {
    newCategory = d.newCategory.trim();
    if (!newCategory) return 'Name the new category';
    category = newCategory;
  }
  if (category !== now.category) patch.category = category;

  const tags = parseTags(d.tags);
  if (tags.join('\n') !== now.tags.join('\n')) patch.tags = tags;

  const ratio: number | null = d.ratioMode === 'default' ? null : d.ratioMode === 'none' ? -1 : Number(d.ratio);
  if (d.ratioMode === 'custom' && (d.ratio.trim() === '' || !Number.isFinite(ratio) || ratio! < 0)) return 'Ratio limit: a number such as 2 or 1.5';
  if (ratio !== now.ratioLimit) patch.ratioLimit = ratio;

  const minutes = Number(d.minutes);
  const time = d.timeMode === 'default' ? null : d.timeMode === 'none' ? -1 : minutes * 60;
  if (d.timeMode === 'custom' && (d.minutes.trim() === '' || !Number.isInteger(minutes) || minutes < 0)) return 'Seeding time limit: whole minutes';
  if (time !== now.seedingTimeLimit) patch.seedingTimeLimit = time;
  return newCategory ? { patch, newCategory } : { patch };
}

export function OptionsTab({ detail, onChanged }: { detail: TorrentDetailView; onChanged: () => Promise<void> }) {
  const options = optionsOf(detail.raw ?? {});
  // What the draft started from: Apply sends what the person changed since, not every difference
  // from the live document (a category set meanwhile by the bulk bar must not be reverted).
  const [base, setBase] = useState<TorrentOptions>(options);
  const [draft, setDraft] = useState<Draft>(() => draftOf(options));
  const [categories, setCategories] = useState<Category[]>([]);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [error, setError] = useState<string>();

  useEffect(() => {
    let live = true;
    nodeOptions.categories().then((c) => live && setCategories(c), () => {});
    nodeOptions.tags().then((t) => live && setKnownTags(t), () => {});
    return () => {
      live = false;
    };
  }, []);

  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setStatus('idle');
  };
  const apply = async () => {
    const plan = patchOf(draft, base);
    if (typeof plan === 'string') {
      setError(plan);
      return;
    }
    setError(undefined);
    setStatus('saving');
    try {
      if (plan.newCategory && !categories.some((c) => c.name === plan.newCategory)) {
        const made = await nodeOptions.addCategory(plan.newCategory);
        setCategories([...categories, made]);
      }
      if (Object.keys(plan.patch).length > 0) {
        const answer = optionsOf(await nodeOptions.patchTorrent(detail.infoHashHex, plan.patch));
        setBase(answer);
        setDraft(draftOf(answer));
      }
      setStatus('saved');
      await Promise.all([onChanged(), refreshTorrents()]);
    } catch (err) {
      setError((err as Error).message);
      setStatus('idle');
    }
  };
  const current = parseTags(draft.tags);
  const suggestions = knownTags.filter((t) => !current.includes(t));
  const id = (s: string) => `${s}-${detail.infoHashHex.slice(0, 8)}`;

  return (
    <div className="options-tab">
      <form
        className="form options-form"
        aria-label="This torrent’s options"
        onSubmit={(e) => {
          e.preventDefault();
          void apply();
        }}
      >
        <fieldset className="settings-group">
          <legend>Speed limits</legend>
          <div className="settings-pair">
            <div className="field">
              <label className="field-label" htmlFor={id('dl')}>Download</label>
              <input id={id('dl')} className="input" value={draft.downloadLimit} placeholder="no limit" onChange={(e) => set({ downloadLimit: e.target.value })} data-testid="torrent-download-limit" />
            </div>
            <div className="field">
              <label className="field-label" htmlFor={id('ul')}>Upload</label>
              <input id={id('ul')} className="input" value={draft.uploadLimit} placeholder="no limit" onChange={(e) => set({ uploadLimit: e.target.value })} data-testid="torrent-upload-limit" />
            </div>
          </div>
          <div className="muted small">500k, 4M…; empty = no limit of its own (the node’s limits still apply).</div>
        </fieldset>

        <fieldset className="settings-group">
          <legend>Organise</legend>
          <div className="field">
            <label className="field-label" htmlFor={id('cat')}>Category</label>
            <select id={id('cat')} className="input" value={draft.category} onChange={(e) => set({ category: e.target.value })} data-testid="torrent-category">
              <option value="">(none)</option>
              {options.category && !categories.some((c) => c.name === options.category) && <option value={options.category}>{options.category}</option>}
              {categories.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
              <option value={NEW_CATEGORY}>New category…</option>
            </select>
            {draft.category === NEW_CATEGORY && (
              <input className="input" aria-label="Name of the new category" placeholder="e.g. Films" value={draft.newCategory} onChange={(e) => set({ newCategory: e.target.value })} data-testid="torrent-category-new" autoFocus />
            )}
          </div>
          <div className="field">
            <label className="field-label" htmlFor={id('tags')}>Tags (comma-separated)</label>
            <input id={id('tags')} className="input" value={draft.tags} placeholder="e.g. linux, iso" onChange={(e) => set({ tags: e.target.value })} data-testid="torrent-tags" />
            {suggestions.length > 0 && (
              <div className="tag-suggestions" aria-label="Tags in use">
                {suggestions.slice(0, 12).map((t) => (
                  <button key={t} type="button" className="chip" onClick={() => set({ tags: [...current, t].join(', ') })} title={`Add the tag ${t}`}>
                    + {t}
                  </button>
                ))}
              </div>
            )}
          </div>
        </fieldset>

        <fieldset className="settings-group">
          <legend>Seeding goals</legend>
          <GoalField label="Stop at ratio" mode={draft.ratioMode} value={draft.ratio} unit="" testId="torrent-ratio-limit" onMode={(ratioMode) => set({ ratioMode })} onValue={(ratio) => set({ ratio, ratioMode: 'custom' })} />
          <GoalField label="Stop after seeding" mode={draft.timeMode} value={draft.minutes} unit="minutes" testId="torrent-seeding-time-limit" onMode={(timeMode) => set({ timeMode })} onValue={(minutes) => set({ minutes, timeMode: 'custom' })} />
        </fieldset>

        {error && (
          <div className="alert alert-error" role="alert" data-testid="torrent-options-error">
            {error}
          </div>
        )}
        <div className="row gap">
          <button type="submit" className="btn btn-primary" disabled={status === 'saving'} data-testid="torrent-options-save">
            {status === 'saving' ? 'Applying…' : 'Apply'}
          </button>
          {status === 'saved' && (
            <span className="muted small" role="status" data-testid="torrent-options-saved">
              Applied.
            </span>
          )}
        </div>
      </form>
      <MoveData infoHash={detail.infoHashHex} savePath={options.savePath ?? detail.savePath ?? ''} onMoved={onChanged} />
    </div>
  );
}

function GoalField({
  label,
  mode,
  value,
  unit,
  testId,
  onMode,
  onValue,
}: {
  label: string;
  mode: GoalMode;
  value: string;
  unit: string;
  testId: string;
  onMode: (m: GoalMode) => void;
  onValue: (v: string) => void;
}) {
  return (
    <div className="field">
      <span className="field-label">{label}</span>
      <div className="row gap wrap-row">
        <select className="input input-auto" aria-label={`${label}: which limit`} value={mode} onChange={(e) => onMode(e.target.value as GoalMode)} data-testid={`${testId}-mode`}>
          <option value="default">the node’s setting</option>
          <option value="none">no limit</option>
          <option value="custom">its own</option>
        </select>
        <input className="input input-short" inputMode="decimal" aria-label={`${label}${unit ? ` (${unit})` : ''}`} value={value} placeholder={unit || 'e.g. 2'} onChange={(e) => onValue(e.target.value)} data-testid={testId} />
        {unit && <span className="muted small">{unit}</span>}
      </div>
    </div>
  );
}

/** Where the data lives; Move takes it (and the torrent) to another folder on the node. */
function MoveData({ infoHash, savePath, onMoved }: { infoHash: string; savePath: string; onMoved: () => Promise<void> }) {
  const [path, setPath] = useState(savePath);
  const [state, setState] = useState<'idle' | 'moving' | 'moved'>('idle');
  const [error, setError] = useState<string>();
  useEffect(() => setPath(savePath), [savePath]);
  const move = async () => {
    setError(undefined);
    setState('moving');
    try {
      await nodeOptions.patchTorrent(infoHash, { savePath: path.trim() });
      setState('moved');
      await Promise.all([onMoved(), refreshTorrents()]);
    } catch (err) {
      setError((err as Error).message);
      setState('idle');
    }
  };
  return (
    <form
      className="form options-form"
      aria-label="Where the data is"
      onSubmit={(e) => {
        e.preventDefault();
        void move();
      }}
    >
      <fieldset className="settings-group">
        <legend>Save path</legend>
        <div className="row gap">
          <input className="input mono grow" aria-label="Folder on the node" value={path} onChange={(e) => (setPath(e.target.value), setState('idle'))} data-testid="torrent-save-path" />
          <button type="submit" className="btn" disabled={state === 'moving' || path.trim() === '' || path.trim() === savePath} data-testid="torrent-move">
            {state === 'moving' ? 'Moving…' : 'Move'}
          </button>
        </div>
        <div className="muted small">Move takes the data there (verified pieces are kept) and the torrent goes on from the new place.</div>
        {state === 'moved' && (
          <div className="muted small" role="status" data-testid="torrent-moved">
            Moved.
          </div>
        )}
        {error && (
          <div className="alert alert-error" role="alert" data-testid="torrent-move-error">
            {error}
          </div>
        )}
      </fieldset>
    </form>
  );
}
