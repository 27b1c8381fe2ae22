// The download-rule editor: every field of a rule (qBittorrent's), and a live preview of the current
// feed items it matches, asked of the node as the user types (a bad regex or episode filter shows
// the node's message naming the field, before anything is saved).
import { useEffect, useId, useState } from 'react';
import { rssApi, type RssFeed, type RssPreviewItem, type RssRule, type RssRuleFields } from '../../api/rss-api.ts';

export const EMPTY_RULE: RssRuleFields = {
  name: '',
  enabled: true,
  mustContain: '',
  mustNotContain: '',
  useRegex: false,
  episodeFilter: '',
  smartFilter: false,
  feeds: [],
  category: null,
  savePath: null,
  tags: [],
  addPaused: false,
};

/** The editable copy of a rule: texts as typed (tags as one comma-separated line). */
interface Draft extends Omit<RssRuleFields, 'tags' | 'category' | 'savePath'> {
  tags: string;
  category: string;
  savePath: string;
}

/** The editable fields only: a stored rule's id, lastError and createdAt are not sent back. */
function draftOf(r: RssRuleFields): Draft {
  return {
    name: r.name,
    enabled: r.enabled,
    mustContain: r.mustContain,
    mustNotContain: r.mustNotContain,
    useRegex: r.useRegex,
    episodeFilter: r.episodeFilter,
    smartFilter: r.smartFilter,
    feeds: r.feeds,
    addPaused: r.addPaused,
    tags: r.tags.join(', '),
    category: r.category ?? '',
    savePath: r.savePath ?? '',
  };
}

function fieldsOf(d: Draft): RssRuleFields {
  return {
    ...d,
    name: d.name.trim(),
    tags: d.tags.split(',').map((t) => t.trim()).filter((t) => t !== ''),
    category: d.category.trim() || null,
    savePath: d.savePath.trim() || null,
  };
}

export function RuleEditor({
  rule,
  feeds,
  categories,
  onSaved,
  onCancel,
}: {
  rule: RssRule | undefined;
  feeds: RssFeed[];
  categories: string[];
  onSaved: (r: RssRule) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule ?? EMPTY_RULE));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const [preview, setPreview] = useState<RssPreviewItem[]>();
  const [previewError, setPreviewError] = useState<string>();
  const id = useId();
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));

  // The preview follows the draft, a moment after the last keystroke.
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      const { name: _name, ...fields } = fieldsOf(draft);
      rssApi
        .preview(rule?.id, fields)
        .then((items) => {
          if (!live) return;
          setPreview(items);
          setPreviewError(undefined);
        })
        .catch((err: Error) => {
          if (!live) return;
          setPreview(undefined);
          setPreviewError(err.message);
        });
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [draft, rule?.id]);

  const save = async () => {
    setSaving(true);
    setError(undefined);
    try {
      const fields = fieldsOf(draft);
      onSaved(rule ? await rssApi.updateRule(rule.id, fields) : await rssApi.addRule(fields));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  const text = (k: 'name' | 'mustContain' | 'mustNotContain' | 'episodeFilter' | 'category' | 'savePath' | 'tags', label: string, testId: string, hint?: string, list?: string) => (
    <div className="field">
      <label className="field-label" htmlFor={`${id}-${k}`}>{label}</label>
      <input id={`${id}-${k}`} className="input" value={draft[k]} onChange={(e) => set(k, e.target.value)} data-testid={testId} list={list} spellCheck={false} autoComplete="off" />
      {hint && <div className="muted small">{hint}</div>}
    </div>
  );
  const check = (k: 'enabled' | 'useRegex' | 'smartFilter' | 'addPaused', label: string, testId: string) => (
    <label className="check">
      <input type="checkbox" checked={draft[k]} onChange={(e) => set(k, e.target.checked)} data-testid={testId} />
      {label}
    </label>
  );

  return (
    <form
      className="card form rss-editor"
      aria-label={rule ? `Edit rule ${rule.name}` : 'New rule'}
      data-testid="rss-rule-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>{rule ? `Rule “${rule.name}”` : 'New rule'}</h2>
      <div className="rss-editor-grid">
        <div>
          {text('name', 'Name', 'rss-rule-name')}
          {text('mustContain', 'Must contain', 'rss-rule-must-contain', draft.useRegex ? 'A regular expression (case-insensitive).' : 'Words that must all appear, in any order; * and ? are wildcards; | separates alternatives.')}
          {text('mustNotContain', 'Must not contain', 'rss-rule-must-not-contain')}
          {text('episodeFilter', 'Episode filter', 'rss-rule-episode', 'e.g. 1x2;8-15;30-; or S01E05-S01E10 (open-ended: S01E05-)')}
          <div className="rss-checks">
            {check('useRegex', 'Regular expressions', 'rss-rule-regex')}
            {check('smartFilter', 'Smart episode filter (each episode once)', 'rss-rule-smart')}
          </div>
          <fieldset className="rss-feeds-pick">
            <legend className="field-label">Feeds (none ticked = every feed)</legend>
            {feeds.length === 0 && <div className="muted small">No feeds yet.</div>}
            {feeds.map((f) => (
              <label key={f.id} className="check">
                <input
                  type="checkbox"
                  checked={draft.feeds.includes(f.id)}
                  onChange={(e) => set('feeds', e.target.checked ? [...draft.feeds, f.id] : draft.feeds.filter((x) => x !== f.id))}
                  data-testid="rss-rule-feed"
                  data-feed-id={f.id}
                />
                {f.title ?? f.url}
              </label>
            ))}
          </fieldset>
          {text('category', 'Category', 'rss-rule-category', undefined, `${id}-categories`)}
          <datalist id={`${id}-categories`}>
            {categories.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
          {text('savePath', 'Save to (empty = the category’s folder, else the download folder)', 'rss-rule-save-path')}
          {text('tags', 'Tags (comma-separated)', 'rss-rule-tags')}
          <div className="rss-checks">
            {check('addPaused', 'Add paused', 'rss-rule-paused')}
            {check('enabled', 'Enabled', 'rss-rule-enabled-input')}
          </div>
        </div>
        <div className="rss-preview" aria-live="polite">
          <h3 className="field-label">Matches among the current items</h3>
          {previewError ? (
            <div className="alert alert-error" role="alert" data-testid="rss-rule-preview-error">{previewError}</div>
          ) : preview === undefined ? (
            <div className="muted small">…</div>
          ) : preview.length === 0 ? (
            <div className="muted small" data-testid="rss-rule-preview-empty">No current item matches.</div>
          ) : (
            <ul className="rss-preview-list" data-testid="rss-rule-preview">
              {preview.map((i) => (
                <li key={`${i.feedId}:${i.guid}`} data-testid="rss-rule-preview-item" className={i.taken || i.duplicateEpisode ? 'muted' : ''}>
                  {i.title}
                  {i.taken ? ' (taken)' : i.duplicateEpisode ? ' (episode already taken)' : ''}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      {error && <div className="alert alert-error" role="alert" data-testid="rss-rule-error">{error}</div>}
      <div className="rss-actions">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="rss-rule-save">
          {saving ? 'Saving…' : rule ? 'Save rule' : 'Add rule'}
        </button>
        <button type="button" className="btn" onClick={onCancel} data-testid="rss-rule-cancel">Cancel</button>
      </div>
    </form>
  );
}
