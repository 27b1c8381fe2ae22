// Reads a V8 .heapsnapshot (`--heapsnapshot-signal`, `v8.writeHeapSnapshot()`) into typed arrays,
// a chunk of the file at a time: a 300 MB snapshot is never one string, and no node or edge becomes a
// JS object. The format: {"snapshot":{"meta":{node_fields, node_types, edge_fields, edge_types…},
// "node_count", "edge_count"}, "nodes":[…], "edges":[…], …, "strings":[…]}, each node a row of
// node_fields numbers, its edges the next edge_count rows of edges (to_node: the target's offset in
// nodes), names indexes into strings (an element or hidden edge's name_or_index is an index).
import { closeSync, openSync, readSync } from 'node:fs';

export interface HeapGraph {
  nodeTypes: string[];
  edgeTypes: string[];
  strings: string[];
  nodeCount: number;
  /** Per node (by ordinal): its type (into nodeTypes), name (into strings), id, self size. */
  type: Uint8Array;
  name: Uint32Array;
  id: Uint32Array;
  self: Float64Array;
  /** Node i's edges are firstEdge[i] … firstEdge[i + 1] - 1. */
  firstEdge: Uint32Array;
  edgeType: Uint8Array;
  edgeName: Uint32Array;
  /** The target's ordinal. */
  edgeTo: Uint32Array;
}

const QUOTE = 0x22, BACKSLASH = 0x5c, CLOSE_ARRAY = 0x5d;
const SCALAR_END = new Set([...' \n\r\t,:]}'].map((c) => c.charCodeAt(0)));

/** The file through a buffer that is refilled as it is used up. */
class Reader {
  buf = Buffer.allocUnsafe(1 << 23);
  pos = 0;
  end = 0;
  /** Where a value being read as a whole starts, kept when the buffer is refilled; -1 for none. */
  mark = -1;
  readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Reads on, keeping the bytes from `keep` (and `mark`) on, moved to the front; returns how far they moved. */
  more(keep: number): number {
    const from = this.mark >= 0 ? Math.min(keep, this.mark) : keep, kept = this.end - from;
    if (kept > this.buf.length / 2) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, from, this.end);
      this.buf = bigger;
    } else this.buf.copy(this.buf, 0, from, this.end);
    this.pos -= from;
    if (this.mark >= 0) this.mark -= from;
    this.end = kept + readSync(this.fd, this.buf, kept, this.buf.length - kept, null);
    return from;
  }

  /** The next byte that is not white space or a comma, not consumed; -1 at the end of the file. */
  peek(): number {
    for (;;) {
      if (this.pos === this.end) {
        this.more(this.pos);
        if (this.pos === this.end) return -1;
      }
      const b = this.buf[this.pos]!;
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0x2c) return b;
      this.pos++;
    }
  }

  expect(ch: string): void {
    const b = this.peek();
    if (b !== ch.charCodeAt(0)) throw new Error(`heap snapshot: expected '${ch}' at byte ${this.pos}, found ${b < 0 ? 'the end' : `'${String.fromCharCode(b)}'`}`);
    this.pos++;
  }

  /** The next unsigned integer of an array, or -1 where the array ends (its ']' consumed). */
  int(): number {
    let b = this.peek();
    if (b === CLOSE_ARRAY) {
      this.pos++;
      return -1;
    }
    let v = 0, digits = 0;
    for (;;) {
      if (this.pos === this.end) {
        this.more(this.pos);
        if (this.pos === this.end) break;
      }
      b = this.buf[this.pos]!;
      if (b < 0x30 || b > 0x39) break;
      v = v * 10 + (b - 0x30);
      digits++;
      this.pos++;
    }
    if (digits === 0 || b === 0x2e || b === 0x65 || b === 0x45) throw new Error(`heap snapshot: not an unsigned integer at byte ${this.pos}`);
    return v;
  }

  /** The next JSON string. */
  str(): string {
    this.expect('"');
    let quote = this.pos - 1, escaped = false, skip = false;
    for (;;) {
      if (this.pos === this.end) {
        quote -= this.more(quote);
        if (this.pos === this.end) throw new Error('heap snapshot: ends inside a string');
      }
      const b = this.buf[this.pos++]!;
      if (skip) skip = false;
      else if (b === BACKSLASH) escaped = skip = true;
      else if (b === QUOTE) break;
    }
    return escaped ? (JSON.parse(this.buf.toString('utf8', quote, this.pos)) as string) : this.buf.toString('utf8', quote + 1, this.pos - 1);
  }

  /** Skips one JSON value of any kind. */
  skip(): void {
    let depth = 0;
    do {
      const b = this.peek();
      if (b < 0) throw new Error('heap snapshot: ends inside a value');
      if (b === QUOTE) this.str();
      else if (b === 0x5b || b === 0x7b) (depth++, this.pos++);
      else if (b === CLOSE_ARRAY || b === 0x7d) (depth--, this.pos++);
      else if (b === 0x3a) this.pos++;
      else while (this.pos < this.end && !SCALAR_END.has(this.buf[this.pos]!)) this.pos++;
    } while (depth > 0);
  }

  /** The next JSON value, parsed (for the small header). */
  json(): unknown {
    this.peek();
    this.mark = this.pos;
    this.skip();
    const text = this.buf.toString('utf8', this.mark, this.pos);
    this.mark = -1;
    return JSON.parse(text);
  }
}

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

export function readHeapSnapshot(path: string): HeapGraph {
  const r = new Reader(path);
  try {
    let header: { meta: Meta; node_count: number; edge_count: number } | undefined;
    let g: HeapGraph | undefined;
    const need = (): HeapGraph => {
      if (g === undefined) throw new Error('heap snapshot: nodes or edges before the "snapshot" header');
      return g;
    };
    r.expect('{');
    while (r.peek() !== 0x7d) {
      const key = r.str();
      r.expect(':');
      if (key === 'snapshot') {
        header = r.json() as typeof header & object;
        g = emptyGraph(header.meta, header.node_count, header.edge_count);
      } else if (key === 'nodes') readNodes(r, header!.meta, need());
      else if (key === 'edges') readEdges(r, header!.meta, need());
      else if (key === 'strings') {
        r.expect('[');
        const strings = need().strings;
        while (r.peek() !== CLOSE_ARRAY) strings.push(r.str());
        r.pos++;
      } else r.skip();
    }
    return need();
  } finally {
    r.close();
  }
}

function emptyGraph(meta: Meta, nodes: number, edges: number): HeapGraph {
  return {
    nodeTypes: meta.node_types[0], edgeTypes: meta.edge_types[0], strings: [], nodeCount: nodes,
    type: new Uint8Array(nodes), name: new Uint32Array(nodes), id: new Uint32Array(nodes), self: new Float64Array(nodes),
    firstEdge: new Uint32Array(nodes + 1), edgeType: new Uint8Array(edges), edgeName: new Uint32Array(edges), edgeTo: new Uint32Array(edges),
  };
}

function field(fields: string[], name: string): number {
  const i = fields.indexOf(name);
  if (i < 0) throw new Error(`heap snapshot: no '${name}' field in the meta`);
  return i;
}

function readNodes(r: Reader, meta: Meta, g: HeapGraph): void {
  const f = meta.node_fields, row = new Float64Array(f.length);
  const [type, name, id, self, edges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((n) => field(f, n)) as [number, number, number, number, number];
  r.expect('[');
  let i = 0;
  for (let v = r.int(); v >= 0; v = r.int(), i++) {
    if (i === g.nodeCount) throw new Error('heap snapshot: more nodes than node_count');
    row[0] = v;
    for (let k = 1; k < row.length; k++) row[k] = r.int();
    g.type[i] = row[type]!;
    g.name[i] = row[name]!;
    g.id[i] = row[id]!;
    g.self[i] = row[self]!;
    g.firstEdge[i + 1] = g.firstEdge[i]! + row[edges]!;
  }
  if (i !== g.nodeCount) throw new Error(`heap snapshot: ${i} nodes, node_count says ${g.nodeCount}`);
}

function readEdges(r: Reader, meta: Meta, g: HeapGraph): void {
  const f = meta.edge_fields, row = new Float64Array(f.length), nodeFields = meta.node_fields.length;
  const [type, name, to] = ['type', 'name_or_index', 'to_node'].map((n) => field(f, n)) as [number, number, number];
  r.expect('[');
  let i = 0;
  for (let v = r.int(); v >= 0; v = r.int(), i++) {
    if (i === g.edgeType.length) throw new Error('heap snapshot: more edges than edge_count');
    row[0] = v;
    for (let k = 1; k < row.length; k++) row[k] = r.int();
    g.edgeType[i] = row[type]!;
    g.edgeName[i] = row[name]!;
    g.edgeTo[i] = row[to]! / nodeFields;
  }
  if (i !== g.edgeType.length) throw new Error(`heap snapshot: ${i} edges, edge_count says ${g.edgeType.length}`);
}
