// Where a torrent added to (or shared through) the node goes: save path, category (the node's, or a
// new one, which the node makes), tags, start paused. The add dialog and the share page use it; the
// defaults shown are the node's (its download dir, the category's own folder, "start paused").
import { useEffect, useState } from 'react';
import type { Category } from '../api/api.ts';
import { nodeOptions, parseTags, type AddOptions, type NodeSettings } from '../api/node-options.ts';

const NEW = '\u0000new';

export interface AddOptionsDraft {
  savePath: string;
  category: string;
  newCategory: string;
  tags: string;
  /** undefined: the node's "start paused" setting decides. */
  paused: boolean | undefined;
  /** Find peers through onion relays only (the node must have a directory; it says so otherwise). */
  privateDiscovery: boolean;
}

export const emptyAddOptions: AddOptionsDraft = { savePath: '', category: '', newCategory: '', tags: '', paused: undefined, privateDiscovery: false };

export function addOptionsOf(d: AddOptionsDraft): AddOptions {
  const category = d.category === NEW ? d.newCategory.trim() : d.category;
  return {
    ...(d.savePath.trim() ? { savePath: d.savePath.trim() } : {}),
    ...(category ? { category } : {}),
    ...(parseTags(d.tags).length > 0 ? { tags: parseTags(d.tags) } : {}),
    ...(d.paused !== undefined ? { paused: d.paused } : {}),
    ...(d.privateDiscovery ? { privateDiscovery: true } : {}),
  };
}

/** The node's settings and categories, read once for the form's defaults; undefined until known
 *  (or when this browser may not read them). */
export function useNodeDefaults(enabled: boolean): { settings: NodeSettings | undefined; categories: Category[] } {
  const [settings, setSettings] = useState<NodeSettings>();
  const [categories, setCategories] = useState<Category[]>([]);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    nodeOptions.settings().then((s) => live && setSettings(s), () => {});
    nodeOptions.categories().then((c) => live && setCategories(c), () => {});
    return () => {
      live = false;
    };
  }, [enabled]);
  return { settings, categories };
}

export function AddOptionsFields({
  prefix,
  value,
  onChange,
  settings,
  categories,
  showPaused = true,
  disabled,
}: {
  /** Test-id and element-id prefix: "add" gives add-save-path, add-category, add-tags, add-paused. */
  prefix: string;
  value: AddOptionsDraft;
  onChange: (v: AddOptionsDraft) => void;
  settings: NodeSettings | undefined;
  categories: Category[];
  showPaused?: boolean;
  disabled?: boolean;
}) {
  const set = (patch: Partial<AddOptionsDraft>) => onChange({ ...value, ...patch });
  const chosen = categories.find((c) => c.name === value.category);
  const defaultPath = chosen?.savePath ?? settings?.downloadDir ?? 'the node’s download folder';
  const paused = value.paused ?? settings?.startPaused ?? false;
  return (
    <fieldset className="settings-group add-options" disabled={disabled}>
      <legend>On the node</legend>
      <div className="settings-pair">
        <div className="field">
          <label className="field-label" htmlFor={`${prefix}-category`}>
            Category
          </label>
          <select id={`${prefix}-category`} className="input" value={value.category} onChange={(e) => set({ category: e.target.value })} data-testid={`${prefix}-category`}>
            <option value="">(none)</option>
            {categories.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
            <option value={NEW}>New category…</option>
          </select>
          {value.category === NEW && (
            <input className="input" aria-label="Name of the new category" placeholder="e.g. Films" value={value.newCategory} onChange={(e) => set({ newCategory: e.target.value })} data-testid={`${prefix}-category-new`} />
          )}
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${prefix}-tags`}>
            Tags (comma-separated)
          </label>
          <input id={`${prefix}-tags`} className="input" value={value.tags} placeholder="e.g. linux, iso" onChange={(e) => set({ tags: e.target.value })} data-testid={`${prefix}-tags`} />
        </div>
      </div>
      <div className="field">
        <label className="field-label" htmlFor={`${prefix}-save-path`}>
          Save in
        </label>
        <input id={`${prefix}-save-path`} className="input mono" value={value.savePath} placeholder={defaultPath} onChange={(e) => set({ savePath: e.target.value })} data-testid={`${prefix}-save-path`} />
        <div className="muted small">Empty: {chosen?.savePath ? `the category’s folder` : 'the node’s download folder'}.</div>
      </div>
      {showPaused && (
        <label className="check">
          <input type="checkbox" checked={paused} onChange={(e) => set({ paused: e.target.checked })} data-testid={`${prefix}-paused`} />
          Add paused (start it later)
        </label>
      )}
      <label className="check">
        <input
          type="checkbox"
          checked={value.privateDiscovery}
          onChange={(e) => set({ privateDiscovery: e.target.checked })}
          aria-describedby={`${prefix}-private-discovery-help`}
          data-testid={`${prefix}-private-discovery`}
        />
        Private discovery
      </label>
      <div className="muted small" id={`${prefix}-private-discovery-help`}>
        Find peers through onion relays: trackers and the DHT never see this node’s address (the peers it exchanges data with still do).
      </div>
    </fieldset>
  );
}
