// What grew between heap snapshots of one process (bench/soak/README.md, "Finding what grows"):
//
//   npx node bench/soak/heap-diff.ts A.heapsnapshot B.heapsnapshot [C …]
//
// For each consecutive pair: (1) the objects reachable from the GC roots, by constructor, top by
// self-size growth; (2) each object's self size charged to its nearest dominating instance of a named
// class (the dominator tree over strong edges, Lengauer-Tarjan), grouped as `Class via Holder.field`,
// top by growth; (3) the objects of the later snapshot that the earlier one did not have (ids are
// stable within a process), grouped by the path from their nearest older named-class owner. One
// snapshot is in memory at a time.
import { basename } from 'node:path';
import { readHeapSnapshot, type HeapGraph } from './heap-snapshot.ts';

interface Tally {
  count: number;
  size: number;
}

export interface Summary {
  file: string;
  objects: number;
  total: number;
  byClass: Map<string, Tally>;
  byOwner: Map<string, Tally>;
  /** Self size owned by no named-class instance (V8's code, builtins, module scopes…). */
  unowned: number;
  /** The ids of the reachable objects, sorted. */
  ids: Uint32Array;
  /** Objects not among the earlier snapshot's ids, by path; each with its largest constructor. */
  added?: Map<string, Tally & { classes: Map<string, number> }>;
}

/** Constructors of the language and the runtime: not a store of the program's own. */
const BUILTIN = new Set(('Object Array Map Set WeakMap WeakSet WeakRef FinalizationRegistry Promise Function Arguments RegExp ' +
  'Date Error TypeError RangeError SyntaxError ArrayBuffer SharedArrayBuffer DataView Uint8Array Int8Array Uint8ClampedArray ' +
  'Uint16Array Int16Array Uint32Array Int32Array Float16Array Float32Array Float64Array BigInt64Array BigUint64Array Buffer ' +
  'FastBuffer Number String Boolean Symbol BigInt Generator AsyncGenerator Iterator Proxy Module').split(' '));
/** How many edges from the owner name a new object's group (section 3). */
const PATH_EDGES = 3;

/** What section 1 groups by: an object's constructor, or its kind for everything else. */
function classOf(g: HeapGraph, v: number): string {
  const type = g.nodeTypes[g.type[v]!]!;
  if (type === 'object' || type === 'native') return g.strings[g.name[v]!]!;
  if (type === 'hidden') return hidden(g.strings[g.name[v]!]!);
  return type.endsWith('string') ? '(string)' : `(${type})`;
}

/** An edge's name; an index (an element, or an internal slot of a table) is `[]`. */
const hiddenNames = new Map<string, string>();
const hidden = (name: string): string => hiddenNames.get(name) ?? hiddenNames.set(name, `(${name || 'system'})`).get(name)!;

function edgeLabel(g: HeapGraph, e: number): string {
  const type = g.edgeTypes[g.edgeType[e]!];
  if (type === 'element' || type === 'hidden') return '[]';
  // A WeakMap's: `29 / part of key (Node @1) -> value (Cache @2) pair in WeakMap (table @3)`.
  const name = g.strings[g.edgeName[e]!]!;
  return /^\d+$/.test(name) ? '[]' : name.includes(' pair in WeakMap') ? '[weak]' : name;
}

/** Edge names as a path: `map.table[]`. */
const joinPath = (names: string[]): string => names.join('.').replace(/\.\[\]/g, '[]');

export function analyse(file: string, earlier?: Uint32Array): Summary {
  const g = readHeapSnapshot(file);
  const n = g.nodeCount, { firstEdge, edgeTo, edgeType } = g;
  const weak = g.edgeTypes.indexOf('weak'), shortcut = g.edgeTypes.indexOf('shortcut');
  // Strong edges; a shortcut is one only from the synthetic root (to the global objects).
  const strong = (from: number, e: number): boolean => edgeType[e] !== weak && (edgeType[e] !== shortcut || from === 0);

  // Shortest paths from the root (for naming paths) and the reachable set.
  const parent = new Int32Array(n).fill(-1), parentEdge = new Uint32Array(n), queue = new Uint32Array(n);
  parent[0] = 0;
  let tail = 1;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) {
      const w = edgeTo[e]!;
      if (parent[w] === -1 && strong(v, e)) (parent[w] = v, parentEdge[w] = e, queue[tail++] = w);
    }
  }

  const { order, idom } = dominators(g, strong);
  // An instance of a class of the program's (or a library's): an object whose constructor's name is
  // an identifier with a capital and not a builtin's. By name: 0 not seen yet, 1 named, 2 not.
  const object = g.nodeTypes.indexOf('object'), synthetic = g.nodeTypes.indexOf('synthetic'), namedString = new Uint8Array(g.strings.length);
  const named = (v: number): boolean => {
    if (g.type[v] !== object) return false;
    const s = g.name[v]!;
    if (namedString[s] === 0) namedString[s] = /^[A-Z_$][\w$]*$/.test(g.strings[s]!) && !BUILTIN.has(g.strings[s]!) ? 1 : 2;
    return namedString[s] === 1;
  };

  // The first edges of the shortest path from `from` (which dominates v) down to v, `…` if it goes on.
  const pathFrom = (from: number, v: number, edges: number, more = '…'): string => {
    const last: string[] = [];
    let steps = 0;
    for (let w = v; w !== from; w = parent[w]!) {
      if (w === 0 || ++steps > 64) return '…';
      last.unshift(edgeLabel(g, parentEdge[w]!));
      if (last.length > edges) last.pop();
    }
    const text = joinPath(last);
    return steps > edges ? text + more : text;
  };
  // Nearest named-class dominator of each node, the node itself included (by DFS number: a node's
  // dominator is numbered before it); 0 for none.
  const count = order.length - 1, owner = new Uint32Array(count + 1), isNamed = new Uint8Array(count + 1);
  for (let i = 1; i <= count; i++) {
    isNamed[i] = named(order[i]!) ? 1 : 0;
    owner[i] = isNamed[i] ? i : i === 1 ? 0 : owner[idom[i]!]!;
  }
  const labels = new Map<number, string>();
  const label = (i: number): string => {
    let text = labels.get(i);
    if (text !== undefined) return text;
    const v = order[i]!, holder = owner[idom[i]!]!;
    // No named holder: its dominator (a module's scope, an array), unless only the root dominates it
    // (it is held from several roots: the shortest path would name one at random, a timer's…).
    const d = holder !== 0 ? order[holder]! : order[idom[i]!]!;
    const via = holder === 0 && g.type[d] === synthetic ? '(several roots)' : joinPath([classOf(g, d), pathFrom(d, v, 1)]);
    text = `${classOf(g, v)} via ${via}`;
    labels.set(i, text);
    return text;
  };

  const byClass = new Map<string, Tally>(), byOwner = new Map<string, Tally>(), owned = new Float64Array(count + 1);
  let total = 0, unowned = 0;
  for (let i = 1; i <= count; i++) {
    const v = order[i]!;
    total += g.self[v]!;
    add(byClass, classOf(g, v), g.self[v]!);
    if (owner[i] !== 0) owned[owner[i]!] += g.self[v]!;
    else unowned += g.self[v]!;
  }
  for (let i = 1; i <= count; i++) if (isNamed[i]) add(byOwner, label(i), owned[i]!);

  const ids = new Uint32Array(count);
  for (let i = 1; i <= count; i++) ids[i - 1] = g.id[order[i]!]!;
  ids.sort();
  const summary: Summary = { file, objects: count, total, byClass, byOwner, unowned, ids };
  if (earlier === undefined) return summary;

  // Section 3: new objects, by their nearest named-class dominator that the earlier snapshot had.
  // V8 gives heap objects odd ids, kept for the process's life; the embedder's nodes (`Node / …`)
  // even ones, made afresh for each snapshot: those are never counted as new.
  const isNew = (v: number): boolean => g.id[v]! % 2 === 1 && !has(earlier, g.id[v]!);
  const older = new Uint32Array(count + 1), added: NonNullable<Summary['added']> = new Map();
  for (let i = 1; i <= count; i++) {
    const v = order[i]!, fresh = isNew(v);
    older[i] = isNamed[i] && !fresh ? i : i === 1 ? 0 : older[idom[i]!]!;
    if (!fresh) continue;
    // Without an older one (inside a new instance that nothing named dominates), the nearest one.
    const o = older[i] || owner[i]!;
    const key = o === 0 ? `(no named owner) › ${classOf(g, v)}` : `${label(o)} › ${o === i ? '(the instance)' : pathFrom(order[o]!, v, PATH_EDGES, '')}`;
    const entry = added.get(key) ?? { count: 0, size: 0, classes: new Map<string, number>() };
    entry.count++;
    entry.size += g.self[v]!;
    entry.classes.set(classOf(g, v), (entry.classes.get(classOf(g, v)) ?? 0) + g.self[v]!);
    added.set(key, entry);
  }
  return { ...summary, added };
}

function add(map: Map<string, Tally>, key: string, size: number): void {
  const t = map.get(key);
  if (t === undefined) map.set(key, { count: 1, size });
  else (t.count++, (t.size += size));
}

function has(sorted: Uint32Array, id: number): boolean {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo] === id;
}

/**
 * The dominator tree from node 0 over strong edges (Lengauer-Tarjan, the simple version with path
 * compression). Nodes are renumbered in DFS order from 1: order[i] is the node numbered i, idom[i]
 * the number of its immediate dominator (numbered before it).
 */
export function dominators(g: HeapGraph, strong: (from: number, e: number) => boolean): { order: Uint32Array; idom: Uint32Array } {
  const n = g.nodeCount, { firstEdge, edgeTo } = g;
  const dfn = new Uint32Array(n), order = new Uint32Array(n + 1), dfsParent = new Uint32Array(n + 1);
  // Iterative DFS: a stack of nodes and, for each, the next edge to look at.
  const stack = new Uint32Array(n), next = new Uint32Array(n);
  let count = 0, top = 0;
  stack[0] = 0;
  next[0] = firstEdge[0]!;
  dfn[0] = ++count;
  order[1] = 0;
  while (top >= 0) {
    const v = stack[top]!, e = next[top]!;
    if (e === firstEdge[v + 1]) {
      top--;
      continue;
    }
    next[top] = e + 1;
    const w = edgeTo[e]!;
    if (dfn[w] !== 0 || !strong(v, e)) continue;
    dfn[w] = ++count;
    order[count] = w;
    dfsParent[count] = dfn[v]!;
    stack[++top] = w;
    next[top] = firstEdge[w]!;
  }

  // Predecessors by DFS number, strong edges between reachable nodes only.
  const predStart = new Uint32Array(count + 2);
  for (let v = 0; v < n; v++) {
    if (dfn[v] === 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (strong(v, e)) predStart[dfn[edgeTo[e]!]! + 1]++;
  }
  for (let i = 1; i <= count + 1; i++) predStart[i] += predStart[i - 1]!;
  const preds = new Uint32Array(predStart[count + 1]!), fill = predStart.slice();
  for (let v = 0; v < n; v++) {
    if (dfn[v] === 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (strong(v, e)) preds[fill[dfn[edgeTo[e]!]!]!++] = dfn[v]!;
  }

  const semi = new Uint32Array(count + 1), idom = new Uint32Array(count + 1), ancestor = new Uint32Array(count + 1);
  const label = new Uint32Array(count + 1), bucket = new Uint32Array(count + 1), bucketNext = new Uint32Array(count + 1);
  const path = new Uint32Array(count + 1);
  for (let i = 1; i <= count; i++) semi[i] = label[i] = i;
  // The vertex of least semidominator on the forest path to v, compressing the path as it goes.
  const evaluate = (v: number): number => {
    if (ancestor[v] === 0) return v;
    let depth = 0;
    for (let u = v; ancestor[ancestor[u]!] !== 0; u = ancestor[u]!) path[depth++] = u;
    while (depth-- > 0) {
      const u = path[depth]!, a = ancestor[u]!;
      if (semi[label[a]!]! < semi[label[u]!]!) label[u] = label[a]!;
      ancestor[u] = ancestor[a]!;
    }
    return label[v]!;
  };
  for (let w = count; w >= 2; w--) {
    for (let k = predStart[w]!; k < predStart[w + 1]!; k++) {
      const u = evaluate(preds[k]!);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    bucketNext[w] = bucket[semi[w]!]!;
    bucket[semi[w]!] = w;
    const p = dfsParent[w]!;
    ancestor[w] = p;
    for (let v = bucket[p]!; v !== 0; v = bucketNext[v]!) {
      const u = evaluate(v);
      idom[v] = semi[u]! < semi[v]! ? u : p;
    }
    bucket[p] = 0;
  }
  for (let w = 2; w <= count; w++) if (idom[w] !== semi[w]) idom[w] = idom[idom[w]!]!;
  idom[1] = 0;
  return { order: order.subarray(0, count + 1), idom };
}

const kb = (bytes: number): string => (Math.abs(bytes) >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} KB`);
const signed = (bytes: number): string => (bytes >= 0 ? '+' : '') + kb(bytes);

/** Rows of `after` against `before`, the largest growth first. */
function growth(before: Map<string, Tally>, after: Map<string, Tally>, top: number): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const none = { count: 0, size: 0 };
  return [...keys]
    .map((k) => ({ k, a: before.get(k) ?? none, b: after.get(k) ?? none }))
    .filter(({ a, b }) => b.size > a.size)
    .sort((x, y) => y.b.size - y.a.size - (x.b.size - x.a.size))
    .slice(0, top)
    .map(({ k, a, b }) => `  ${signed(b.size - a.size).padStart(11)} ${kb(a.size).padStart(10)} → ${kb(b.size).padEnd(10)} ${`${a.count} → ${b.count}`.padEnd(16)} ${k}`);
}

export function report(a: Summary, b: Summary): string {
  const lines = [
    `== ${basename(a.file)} → ${basename(b.file)}`,
    `reachable: ${kb(a.total)} → ${kb(b.total)} (${signed(b.total - a.total)}), ${a.objects} → ${b.objects} objects`,
    '',
    '1. Self size by constructor, top 25 by growth (growth, before → after, count before → after)',
    ...growth(a.byClass, b.byClass, 25),
    '',
    '2. Charged to the nearest dominating named-class instance, top 25 by growth (instances before → after)',
    ...growth(a.byOwner, b.byOwner, 25),
    `  (owned by no named-class instance: ${kb(a.unowned)} → ${kb(b.unowned)})`,
    '',
    `3. Objects new in ${basename(b.file)}, by path from their nearest older named-class owner, top 20 by size`,
  ];
  const added = [...(b.added ?? new Map<string, never>())].sort((x, y) => y[1].size - x[1].size);
  for (const [key, t] of added.slice(0, 20)) {
    const main = [...t.classes].sort((x, y) => y[1] - x[1])[0]![0];
    lines.push(`  ${kb(t.size).padStart(10)} ${String(t.count).padStart(8)} objects, mostly ${main.padEnd(12)} ${key}`);
  }
  const all = added.reduce((s, [, t]) => s + t.size, 0);
  lines.push(`  (all new: ${kb(all)} in ${added.reduce((s, [, t]) => s + t.count, 0)} objects)`);
  return lines.join('\n');
}

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (files.length < 2) {
    console.error('usage: npx node bench/soak/heap-diff.ts A.heapsnapshot B.heapsnapshot [C …]');
    process.exit(2);
  }
  let before = analyse(files[0]!);
  for (const file of files.slice(1)) {
    const after = analyse(file, before.ids);
    console.log(`${report(before, after)}\n`);
    before = after;
  }
}
