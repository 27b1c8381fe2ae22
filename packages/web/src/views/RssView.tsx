// RSS: feeds with their state and errors, a feed's items, the download rules (editor with a live
// preview) and the matches the rules took. Reads the node's /api/rss routes every few seconds while
// open, and at once after each change.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/api.ts';
import { rssApi, type RssFeed, type RssItem, type RssMatch, type RssRule } from '../api/rss-api.ts';
import { formatBytes, formatDate, shortHash } from '../format/format.ts';
import { href } from '../state/router.ts';
import { RuleEditor } from './rss/RuleEditor.tsx';
import { FeedInterval, Settings } from './rss/RssSettings.tsx';
import './rss/rss.css';

const POLL_MS = 4000;

function feedStatus(f: RssFeed): { state: 'ok' | 'error' | 'pending'; text: string } {
  if (f.refreshing && f.lastRefreshAt === null) return { state: 'pending', text: 'Reading…' };
  if (f.lastError) return { state: 'error', text: f.lastError };
  if (f.lastRefreshAt === null) return { state: 'pending', text: 'Not read yet' };
  return { state: 'ok', text: f.refreshing ? 'Reading…' : 'OK' };
}

export function RssView() {
  const [feeds, setFeeds] = useState<RssFeed[]>();
  const [rules, setRules] = useState<RssRule[]>([]);
  const [matches, setMatches] = useState<RssMatch[]>([]);
  const [categories, setCategories] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<number>();
  const [editing, setEditing] = useState<RssRule | 'new'>();

  const reload = useCallback(async () => {
    try {
      const [f, r, m] = await Promise.all([rssApi.feeds(), rssApi.rules(), rssApi.matches()]);
      setFeeds(f);
      setRules(r);
      setMatches(m);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void reload();
    const timer = setInterval(() => void reload(), POLL_MS);
    // Categories feed the rule editor's suggestions; a node without them just offers none.
    api.categories().then((cs) => setCategories(cs.map((c) => c.name)), () => {});
    return () => clearInterval(timer);
  }, [reload]);

  const current = feeds?.find((f) => f.id === selected) ?? feeds?.[0];

  return (
    <section className="rss-view" aria-label="RSS" data-testid="rss-page">
      <div className="page-head">
        <div>
          <h1>RSS</h1>
          <p className="muted">Feeds are read on a schedule; rules add the items that match and remember what they took.</p>
        </div>
        <div className="head-actions">
          <button type="button" className="btn" onClick={() => void rssApi.refreshAll().then(reload, (e: Error) => setError(e.message))} data-testid="rss-refresh-all">
            Refresh all
          </button>
        </div>
      </div>
      {error && <div className="alert alert-error" role="alert" data-testid="rss-error">{error}</div>}
      <div className="rss-columns">
        <div>
          <Feeds feeds={feeds} selected={current?.id} onSelect={setSelected} onChanged={reload} />
          {current && <Items feed={current} onChanged={reload} />}
          <Settings onChanged={reload} />
        </div>
        <div>
          <Rules rules={rules} feeds={feeds ?? []} onEdit={setEditing} onChanged={reload} />
          {editing && (
            <RuleEditor
              key={editing === 'new' ? 'new' : editing.id}
              rule={editing === 'new' ? undefined : editing}
              feeds={feeds ?? []}
              categories={categories}
              onCancel={() => setEditing(undefined)}
              onSaved={() => {
                setEditing(undefined);
                void reload();
              }}
            />
          )}
          <Matches matches={matches} />
        </div>
      </div>
    </section>
  );
}

function Feeds({ feeds, selected, onSelect, onChanged }: { feeds: RssFeed[] | undefined; selected: number | undefined; onSelect: (id: number) => void; onChanged: () => Promise<void> }) {
  const [url, setUrl] = useState('');
  const [minutes, setMinutes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const add = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const m = minutes.trim();
      const f = await rssApi.addFeed(url.trim(), m === '' ? undefined : Math.round(Number(m) * 60));
      setUrl('');
      setMinutes('');
      onSelect(f.id);
      await onChanged();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const act = (fn: () => Promise<unknown>) => () => void fn().then(onChanged, (e: Error) => setError(e.message));

  return (
    <div className="card">
      <h2>Feeds</h2>
      <form
        className="rss-add-feed"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor="rss-feed-url">Feed URL (RSS or Atom)</label>
          <input id="rss-feed-url" className="input" type="url" required placeholder="https://example.org/feed.xml" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="rss-feed-url" />
        </div>
        <div className="field rss-interval">
          <label className="field-label" htmlFor="rss-feed-interval">Every (min)</label>
          <input id="rss-feed-interval" className="input" inputMode="numeric" placeholder="30" value={minutes} onChange={(e) => setMinutes(e.target.value)} data-testid="rss-feed-interval" />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy || url.trim() === ''} data-testid="rss-add-feed">
          {busy ? 'Adding…' : 'Add feed'}
        </button>
      </form>
      {error && <div className="alert alert-error" role="alert" data-testid="rss-feed-error">{error}</div>}
      {feeds === undefined ? (
        <div className="muted">Loading…</div>
      ) : feeds.length === 0 ? (
        <div className="muted" data-testid="rss-no-feeds">No feeds yet.</div>
      ) : (
        <ul className="rss-list" aria-label="Feeds">
          {feeds.map((f) => {
            const s = feedStatus(f);
            const name = f.title ?? f.url;
            return (
              <li key={f.id} className={`rss-feed${f.id === selected ? ' selected' : ''}`} data-testid="rss-feed-row" data-feed-id={f.id}>
                <button type="button" className="rss-feed-main" onClick={() => onSelect(f.id)} aria-pressed={f.id === selected} aria-label={`Show the items of ${name}`}>
                  <span className="rss-feed-title">{name}</span>
                  <span className="mono small muted wrap">{f.url}</span>
                </button>
                <div className="rss-feed-meta small">
                  <span className={`badge rss-status-${s.state}`} data-testid="rss-feed-status" data-state={s.state} title={s.text}>
                    {s.state === 'error' ? 'Failed' : s.text}
                  </span>
                  <span data-testid="rss-feed-counts">{f.itemCount} items, {f.unreadCount} unread</span>
                  <span className="muted">read {formatDate(f.lastRefreshAt)} · every {Math.round(f.effectiveInterval / 60)} min</span>
                </div>
                {s.state === 'error' && <div className="alert alert-error small" data-testid="rss-feed-last-error">{f.lastError}</div>}
                <div className="rss-actions">
                  <button type="button" className="btn btn-small" onClick={act(() => rssApi.refreshFeed(f.id))} aria-label={`Refresh ${name}`} data-testid="rss-feed-refresh">Refresh</button>
                  <FeedInterval feed={f} name={name} onChanged={onChanged} onError={setError} />
                  <button type="button" className="btn btn-small btn-ghost" onClick={act(() => rssApi.removeFeed(f.id))} aria-label={`Remove ${name}`} data-testid="rss-feed-remove">Remove</button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function Items({ feed, onChanged }: { feed: RssFeed; onChanged: () => Promise<void> }) {
  const [items, setItems] = useState<RssItem[]>();
  const [error, setError] = useState<string>();
  // Re-read when the feed was read again or its counts moved (a rule took something).
  const stamp = `${feed.id}:${feed.lastRefreshAt}:${feed.unreadCount}:${feed.itemCount}`;
  useEffect(() => {
    let live = true;
    rssApi.items(feed.id).then(
      (i) => live && (setItems(i), setError(undefined)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [stamp, feed.id]);
  // By hand, as qBittorrent's "Download" on an article: the node's normal add, then the item is read.
  const download = async (i: RssItem) => {
    try {
      await api.addUri(i.torrentUrl!);
      await rssApi.markRead(feed.id, [i.guid]);
      setError(undefined);
      await onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="card" data-testid="rss-items">
      <div className="rss-card-head">
        <h2>Items of {feed.title ?? feed.url}</h2>
        {feed.unreadCount > 0 && (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => void rssApi.markRead(feed.id).then(onChanged, (e: Error) => setError(e.message))} data-testid="rss-items-mark-read">
            Mark all read
          </button>
        )}
      </div>
      {error && <div className="alert alert-error" role="alert">{error}</div>}
      {items === undefined ? (
        <div className="muted">Loading…</div>
      ) : items.length === 0 ? (
        <div className="muted">No items{feed.lastError ? ' (the feed could not be read)' : ''}.</div>
      ) : (
        <ul className="rss-list rss-items">
          {items.map((i) => (
            <li key={i.guid} className={i.read ? 'read' : 'unread'} data-testid="rss-item-row" data-read={i.read}>
              <span className="rss-item-title">{i.link && /^https?:\/\//i.test(i.link) ? <a href={i.link} target="_blank" rel="noreferrer noopener">{i.title}</a> : i.title}</span>
              <span className="small muted">
                {formatDate(i.publishedAt)}
                {i.size ? ` · ${formatBytes(i.size)}` : ''}
                {i.torrentUrl ? '' : ' · no torrent'}
              </span>
              <div className="rss-feed-meta">
                {i.match && (
                  <span className={`badge ${i.match.error ? 'rss-status-error' : 'rss-status-ok'}`} data-testid="rss-item-match">
                    {i.match.error ? `Failed (${i.match.ruleName})` : `Taken by ${i.match.ruleName}`}
                  </span>
                )}
                {i.torrentUrl && !(i.match && !i.match.error) && (
                  <button type="button" className="btn btn-small" onClick={() => void download(i)} aria-label={`Download ${i.title}`} data-testid="rss-item-download">
                    Download
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Rules({ rules, feeds, onEdit, onChanged }: { rules: RssRule[]; feeds: RssFeed[]; onEdit: (r: RssRule | 'new') => void; onChanged: () => Promise<void> }) {
  const [error, setError] = useState<string>();
  const act = (fn: () => Promise<unknown>) => () => void fn().then(onChanged, (e: Error) => setError(e.message));
  const feedName = (id: number) => feeds.find((f) => f.id === id)?.title ?? `feed ${id}`;
  // The box shows the click at once; the list catches up when the node has answered.
  const [toggled, setToggled] = useState<Record<number, boolean>>({});
  const toggle = (r: RssRule, enabled: boolean) => {
    setToggled((t) => ({ ...t, [r.id]: enabled }));
    void rssApi
      .updateRule(r.id, { enabled })
      .then(onChanged, (e: Error) => setError(e.message))
      .finally(() => setToggled(({ [r.id]: _done, ...rest }) => rest));
  };
  return (
    <div className="card">
      <div className="rss-card-head">
        <h2>Download rules</h2>
        <button type="button" className="btn btn-small btn-primary" onClick={() => onEdit('new')} data-testid="rss-rule-new">New rule</button>
      </div>
      {error && <div className="alert alert-error" role="alert">{error}</div>}
      {rules.length === 0 ? (
        <div className="muted" data-testid="rss-no-rules">No rules yet.</div>
      ) : (
        <ul className="rss-list" aria-label="Download rules">
          {rules.map((r) => (
            <li key={r.id} data-testid="rss-rule-row" data-rule-id={r.id}>
              <div className="rss-rule-head">
                <span className="rss-feed-title">{r.name}</span>
                <label className="check small">
                  <input type="checkbox" checked={toggled[r.id] ?? r.enabled} onChange={(e) => toggle(r, e.target.checked)} data-testid="rss-rule-enabled" aria-label={`Rule ${r.name} enabled`} />
                  enabled
                </label>
              </div>
              <div className="small muted">
                {[
                  r.mustContain && `${r.useRegex ? 'regex' : 'contains'} “${r.mustContain}”`,
                  r.mustNotContain && `not “${r.mustNotContain}”`,
                  r.episodeFilter && `episodes ${r.episodeFilter}`,
                  r.smartFilter && 'smart filter',
                  r.feeds.length === 0 ? 'all feeds' : r.feeds.map(feedName).join(', '),
                  r.category && `category ${r.category}`,
                  r.savePath && `→ ${r.savePath}`,
                  r.tags.length > 0 && `tags ${r.tags.join(', ')}`,
                  r.addPaused && 'paused',
                  `last match ${r.lastMatchAt === null ? 'never' : formatDate(r.lastMatchAt)}`,
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </div>
              {r.lastError && <div className="alert alert-error small" data-testid="rss-rule-last-error">{r.lastError}</div>}
              <div className="rss-actions">
                <button type="button" className="btn btn-small" onClick={() => onEdit(r)} aria-label={`Edit rule ${r.name}`} data-testid="rss-rule-edit">Edit</button>
                <button type="button" className="btn btn-small btn-ghost" onClick={act(() => rssApi.removeRule(r.id))} aria-label={`Remove rule ${r.name}`} data-testid="rss-rule-remove">Remove</button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Matches({ matches }: { matches: RssMatch[] }) {
  return (
    <div className="card">
      <h2>Matches taken</h2>
      {matches.length === 0 ? (
        <div className="muted" data-testid="rss-no-matches">Nothing taken yet.</div>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="rss-matches">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Rule</th>
                <th scope="col">Item</th>
                <th scope="col">Torrent</th>
              </tr>
            </thead>
            <tbody>
              {matches.map((m) => (
                <tr key={m.id} data-testid="rss-match-row" data-infohash={m.infoHash ?? ''}>
                  <td className="nowrap">{formatDate(m.at)}</td>
                  <td>{m.ruleName}</td>
                  <td className="wrap">{m.title}</td>
                  <td className="nowrap">
                    {m.error ? (
                      <span className="badge rss-status-error" title={m.error}>Failed: {m.error.slice(0, 60)}</span>
                    ) : m.infoHash ? (
                      <a className="mono" href={href('torrents', m.infoHash)}>{shortHash(m.infoHash)}</a>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
