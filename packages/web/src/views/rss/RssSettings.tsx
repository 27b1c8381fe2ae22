// The RSS page's settings: a feed's own reading interval (in its row) and the node's (interval,
// items kept per feed).
import { useEffect, useState } from 'react';
import { rssApi, type RssFeed } from '../../api/rss-api.ts';

/** A feed's own reading interval: minutes, or empty for the node's. */
export function FeedInterval({ feed, name, onChanged, onError }: { feed: RssFeed; name: string; onChanged: () => Promise<void>; onError: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  const [minutes, setMinutes] = useState('');
  if (!open) {
    return (
      <button
        type="button"
        className="btn btn-small btn-ghost"
        onClick={() => {
          setMinutes(feed.refreshInterval === null ? '' : String(feed.refreshInterval / 60));
          setOpen(true);
        }}
        aria-label={`Change how often ${name} is read`}
        data-testid="rss-feed-interval-edit"
      >
        Interval
      </button>
    );
  }
  const save = async () => {
    try {
      const m = minutes.trim();
      await rssApi.updateFeed(feed.id, { refreshInterval: m === '' ? null : Math.round(Number(m) * 60) });
      setOpen(false);
      await onChanged();
    } catch (err) {
      onError((err as Error).message);
    }
  };
  return (
    <form
      className="rss-interval-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label className="small" htmlFor={`rss-interval-${feed.id}`}>Every (min, empty = the node’s)</label>
      <input id={`rss-interval-${feed.id}`} className="input input-small" inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} data-testid="rss-feed-interval-input" />
      <button type="submit" className="btn btn-small" data-testid="rss-feed-interval-save">Save</button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}

export function Settings({ onChanged }: { onChanged: () => Promise<void> }) {
  const [minutes, setMinutes] = useState('');
  const [maxItems, setMaxItems] = useState('');
  const [note, setNote] = useState<{ error: boolean; text: string }>();
  useEffect(() => {
    rssApi.settings().then(
      (s) => {
        setMinutes(String(s.refreshInterval / 60));
        setMaxItems(String(s.maxItemsPerFeed));
      },
      (e: Error) => setNote({ error: true, text: e.message }),
    );
  }, []);
  const save = async () => {
    try {
      const s = await rssApi.setSettings({ refreshInterval: Math.round(Number(minutes) * 60), maxItemsPerFeed: Number(maxItems) });
      setNote({ error: false, text: `Saved: every ${s.refreshInterval / 60} min, ${s.maxItemsPerFeed} items per feed.` });
      await onChanged();
    } catch (err) {
      setNote({ error: true, text: (err as Error).message });
    }
  };
  return (
    <form
      className="card rss-settings"
      aria-label="RSS settings"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>Reading</h2>
      <div className="rss-settings-row">
        <div className="field">
          <label className="field-label" htmlFor="rss-settings-interval">Read feeds every (min)</label>
          <input id="rss-settings-interval" className="input" inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} data-testid="rss-settings-interval" />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="rss-settings-max-items">Items kept per feed</label>
          <input id="rss-settings-max-items" className="input" inputMode="numeric" value={maxItems} onChange={(e) => setMaxItems(e.target.value)} data-testid="rss-settings-max-items" />
        </div>
        <button type="submit" className="btn" data-testid="rss-settings-save">Save</button>
      </div>
      <div className="muted small">A feed’s own interval, given when it is added, wins over this one.</div>
      {note && (
        <div className={note.error ? 'alert alert-error' : 'muted small'} role={note.error ? 'alert' : 'status'} data-testid="rss-settings-note">
          {note.text}
        </div>
      )}
    </form>
  );
}
