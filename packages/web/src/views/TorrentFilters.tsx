// The filters above the torrent table: state (with the groups active, inactive, completed, stalled,
// queued…), category, tag, tracker — each with how many torrents it matches — and the search box.
// On a narrow screen, where the column headers give way to cards, a "sort by" menu stands in for them.

import { useMemo, type ReactNode } from 'react';
import type { TorrentSummary } from '../api/api.ts';
import { defaultOrder, facets, NONE, STATE_FILTERS, stateCounts, type Filters, type Sort, type SortField, type StateFilter } from '../state/torrent-list.ts';

const SORTS: [SortField, string][] = [
  ['name', 'Name'],
  ['size', 'Size'],
  ['progress', 'Progress'],
  ['state', 'State'],
  ['downloadSpeed', 'Download speed'],
  ['uploadSpeed', 'Upload speed'],
  ['eta', 'ETA'],
  ['ratio', 'Ratio'],
  ['category', 'Category'],
  ['addedAt', 'Added'],
  ['queuePosition', 'Queue position'],
];

export function TorrentFilters({ torrents, filters, onChange, sort, onSort }: { torrents: TorrentSummary[]; filters: Filters; onChange: (f: Filters) => void; sort: Sort; onSort: (s: Sort) => void }) {
  const counts = useMemo(() => stateCounts(torrents), [torrents]);
  const { categories, tags, trackers } = useMemo(() => facets(torrents), [torrents]);
  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });

  return (
    <div className="toolbar filters" role="search" aria-label="Filter torrents">
      <FilterSelect label="Filter by state" testId="filter-state" value={filters.state} onChange={(v) => set({ state: v as StateFilter })}>
        {STATE_FILTERS.map(([f, label]) => (
          <option key={f} value={f}>
            {f === 'all' ? 'All states' : label} ({counts.get(f) ?? 0})
          </option>
        ))}
      </FilterSelect>
      <FilterSelect label="Filter by category" testId="filter-category" value={filters.category} onChange={(v) => set({ category: v })}>
        <option value="">All categories</option>
        <FacetOptions values={categories} none="No category" current={filters.category} />
      </FilterSelect>
      <FilterSelect label="Filter by tag" testId="filter-tag" value={filters.tag} onChange={(v) => set({ tag: v })}>
        <option value="">All tags</option>
        <FacetOptions values={tags} none="No tags" current={filters.tag} />
      </FilterSelect>
      <FilterSelect label="Filter by tracker" testId="filter-tracker" value={filters.tracker} onChange={(v) => set({ tracker: v })}>
        <option value="">All trackers</option>
        <FacetOptions values={trackers} none="No tracker" current={filters.tracker} />
      </FilterSelect>
      <label className="filter filter-sort">
        <span className="visually-hidden">Sort by</span>
        <select
          className="input input-small"
          data-testid="sort-select"
          value={`${sort.field}:${sort.order}`}
          onChange={(e) => {
            const [field, order] = e.target.value.split(':') as [SortField, Sort['order']];
            onSort({ field, order: order ?? defaultOrder(field) });
          }}
        >
          {SORTS.flatMap(([f, label]) => [
            <option key={`${f}:asc`} value={`${f}:asc`}>
              Sort: {label} ↑
            </option>,
            <option key={`${f}:desc`} value={`${f}:desc`}>
              Sort: {label} ↓
            </option>,
          ])}
        </select>
      </label>
      <label className="filter filter-search">
        <span className="visually-hidden">Search torrents</span>
        <input
          className="input search"
          type="search"
          placeholder="Search name, infohash, category, tag"
          value={filters.search}
          onChange={(e) => set({ search: e.target.value })}
          data-testid="torrent-search"
        />
      </label>
    </div>
  );
}

function FilterSelect({ label, testId, value, onChange, children }: { label: string; testId: string; value: string; onChange: (v: string) => void; children: ReactNode }) {
  return (
    <label className="filter">
      <span className="visually-hidden">{label}</span>
      <select className={`input input-small${value && value !== 'all' ? ' filter-on' : ''}`} data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}

/** One option per value present, then "none"; a chosen value that left the list stays choosable. */
function FacetOptions({ values, none, current }: { values: Map<string, number>; none: string; current: string }) {
  const names = [...values.keys()].filter((k) => k !== NONE).sort((a, b) => a.localeCompare(b));
  if (current && current !== NONE && !values.has(current)) names.push(current);
  return (
    <>
      {names.map((n) => (
        <option key={n} value={n}>
          {n} ({values.get(n) ?? 0})
        </option>
      ))}
      <option value={NONE}>
        {none} ({values.get(NONE) ?? 0})
      </option>
    </>
  );
}
