// The Grafana dashboard (deploy/grafana) is well-formed: valid JSON, unique panel ids, panels on the
// 24-column grid without overlaps, every query on the datasource the provisioning file declares,
// and the provisioning files point where the dashboard is mounted. Its queries run against a real
// Prometheus in metrics.test.ts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { parse } from 'yaml';
import { allPanels, dashboardTargets, grafanaExpr, GRAFANA_DIR, loadDashboard } from './metrics-dashboard.ts';

test('the Grafana dashboard: unique ids, a tidy grid, the provisioned datasource, known variables', () => {
  const d = loadDashboard();
  assert.equal(typeof d.uid, 'string');
  const panels = allPanels(d);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `panel ids are unique: ${ids.join(',')}`);
  assert.ok(ids.every((id) => Number.isInteger(id) && id > 0));

  // Grid: inside 24 columns, no two panels on the same cell.
  const taken = new Set<string>();
  for (const p of panels) {
    const g = p.gridPos;
    assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `panel "${p.title}" fits the grid: ${JSON.stringify(g)}`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!taken.has(`${x},${y}`), `panel "${p.title}" overlaps another at ${x},${y}`);
        taken.add(`${x},${y}`);
      }
    }
  }

  const ds = parse(readFileSync(`${GRAFANA_DIR}provisioning/datasources/prometheus.yaml`, 'utf8')) as { apiVersion: number; datasources: { uid: string; type: string; url: string }[] };
  assert.equal(ds.apiVersion, 1);
  const uid = ds.datasources[0]!.uid;
  assert.equal(ds.datasources[0]!.type, 'prometheus');
  for (const p of panels) {
    if (p.type === 'row') continue;
    assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has a query`);
    assert.equal(p.datasource?.uid, uid, `panel "${p.title}" uses the provisioned datasource`);
    for (const t of p.targets!) {
      assert.equal(t.datasource?.uid, uid, `a query of "${p.title}" uses the provisioned datasource`);
      assert.ok((t.expr ?? '').trim().length > 0, `a query of "${p.title}" has an expression`);
    }
  }
  for (const v of d.templating.list) if (v.datasource) assert.equal(v.datasource.uid, uid, `variable ${v.name} uses the provisioned datasource`);

  // Every variable a query uses is one the dashboard defines (or Grafana's own interval ones).
  const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, 'x']));
  for (const { expr } of dashboardTargets(d)) assert.doesNotThrow(() => grafanaExpr(expr, vars), expr);

  const provider = parse(readFileSync(`${GRAFANA_DIR}provisioning/dashboards/cascade.yaml`, 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
  assert.equal(provider.apiVersion, 1);
  assert.equal(provider.providers[0]!.type, 'file');
  assert.equal(provider.providers[0]!.options.path, '/var/lib/grafana/dashboards', 'where deploy/compose.yaml mounts deploy/grafana/dashboards');
});
