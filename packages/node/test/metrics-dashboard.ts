// The Grafana dashboard of deploy/grafana as tests read it: its panels' queries, and Grafana's
// variables replaced the way Grafana would before a query reaches Prometheus.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GRAFANA_DIR = fileURLToPath(new URL('../../../deploy/grafana/', import.meta.url));
export const DASHBOARD_FILE = `${GRAFANA_DIR}dashboards/cascade.json`;

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { expr?: string; refId: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; datasource?: { uid: string }; query?: unknown }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Each query of each panel, with the panel's title (for messages). */
export function dashboardTargets(d = loadDashboard()): { panel: string; expr: string }[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
}

/** Grafana's interval variables as a test Prometheus (1 s scrapes, a minute of data) can answer them. */
const INTERVALS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1m' };

/** `expr` with $var, ${var} and [[var]] replaced: interval variables by INTERVALS, others by `vars`. */
export function grafanaExpr(expr: string, vars: Record<string, string>): string {
  const all = { ...INTERVALS, ...vars };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    const v = all[name];
    if (v === undefined) throw new Error(`the dashboard uses a variable the test does not know: ${whole} in ${expr}`);
    return v;
  });
}
