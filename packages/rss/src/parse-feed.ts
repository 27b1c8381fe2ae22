// Reads an RSS 2.0, RSS 1.0 (RDF) or Atom document into feed items. XML is parsed by
// fast-xml-parser (DOCTYPE entities are not expanded, so an entity bomb stays a few bytes); this
// module only walks the tree. An item's torrent is, in order of preference: an enclosure that is a
// .torrent (by type or name) or a magnet, the `<torrent:magnetURI>` of the ezRSS namespace, a
// `<link>` that is a magnet or a .torrent, then any enclosure.

import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import type { RssParsedItem as ParsedItem } from '@cascade/shapes';

export type { ParsedItem };

export interface ParsedFeed {
  kind: 'rss' | 'atom' | 'rdf';
  title: string | null;
  items: ParsedItem[];
}

export class FeedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFormatError';
  }
}

/** The most items read from one document; a feed is a window on recent items, not an archive. */
export const MAX_PARSED_ITEMS = 1000;
const MAX_TEXT = 1000;

type Node = Record<string, unknown>;

/** fast-xml-parser, loaded at the first feed: a node without RSS feeds holds none of it. */
let loaded: { parser: XMLParser; validate: typeof import('fast-xml-parser').XMLValidator.validate } | undefined;

function xmlLibrary(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const lib = createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser');
  const parser = new lib.XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    // Titles carry &#39;, &#x2013;, &nbsp; and the like: decoded (DOCTYPE-declared entities still are not).
    htmlEntities: true,
    isArray: (name) => ['item', 'entry', 'link', 'enclosure', 'atom:link'].includes(name),
  });
  return (loaded = { parser, validate: (text, opts) => lib.XMLValidator.validate(text, opts) });
}

/** The element's text: a plain string, or the `#text` of an element with attributes. */
function text(v: unknown): string | null {
  if (Array.isArray(v)) return text(v[0]);
  if (typeof v === 'string') {
    // Control characters (a decoded &#0;, say) have no place in a title or URL.
    const s = v.replace(/[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '').trim();
    return s === '' ? null : s.slice(0, MAX_TEXT * 8);
  }
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object') return text((v as Node)['#text']);
  return null;
}

/** A child by local name: `title`, or a prefixed `dc:title`-style key when no plain one exists. */
function child(node: Node, local: string): unknown {
  if (Object.hasOwn(node, local)) return node[local];
  const key = Object.keys(node).find((k) => k.endsWith(`:${local}`));
  return key === undefined ? undefined : node[key];
}

function children(node: Node, local: string): Node[] {
  const v = child(node, local);
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (x && typeof x === 'object' ? (x as Node) : { '#text': x }));
}

function attr(node: Node, name: string): string | null {
  const v = node[`@_${name}`];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

const isMagnet = (u: string) => /^magnet:\?/i.test(u);
const looksLikeTorrent = (u: string, type: string | null) =>
  type === 'application/x-bittorrent' || /\.torrent(?:$|[?#])/i.test(u) || isMagnet(u);

/** ezRSS's `<torrent:infoHash>` alone (no magnet, no enclosure) still names a torrent. */
function magnetOfHash(hash: string | null, title: string | null): string | null {
  if (hash === null || !/^(?:[0-9a-f]{40}|[a-z2-7]{32})$/i.test(hash)) return null;
  return `magnet:?xt=urn:btih:${hash.toLowerCase()}${title ? `&dn=${encodeURIComponent(title)}` : ''}`;
}

function number(s: string | null): number | null {
  if (s === null || !/^\d{1,16}$/.test(s)) return null;
  return Number(s);
}

function date(s: string | null): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
}

function rssItem(node: Node): ParsedItem | null {
  const title = text(child(node, 'title'));
  const enclosures = children(node, 'enclosure').map((e) => ({ url: attr(e, 'url'), type: attr(e, 'type'), length: attr(e, 'length') }));
  const links = children(node, 'link')
    .filter((l) => attr(l, 'rel') === null || attr(l, 'rel') === 'alternate')
    .map((l) => text(l) ?? attr(l, 'href'))
    .filter((u): u is string => u !== null);
  const magnetUri = text(child(node, 'magnetURI')) ?? magnetOfHash(text(child(node, 'infoHash')), title);
  const torrentEnclosure = enclosures.find((e) => e.url && looksLikeTorrent(e.url, e.type));
  const torrentLink = links.find((u) => looksLikeTorrent(u, null));
  const torrentUrl =
    torrentEnclosure?.url ?? (magnetUri && isMagnet(magnetUri) ? magnetUri : null) ?? torrentLink ?? enclosures.find((e) => e.url)?.url ?? null;
  const page = links.find((u) => u !== torrentUrl) ?? null;
  const guid = text(child(node, 'guid')) ?? torrentUrl ?? page ?? title;
  if (guid === null) return null;
  const enclosureSize = number(torrentEnclosure?.length ?? null);
  return {
    guid: clip(guid),
    title: clip(title ?? guid),
    torrentUrl,
    link: page,
    publishedAt: date(text(child(node, 'pubDate')) ?? text(child(node, 'date'))),
    size: number(text(child(node, 'contentLength'))) ?? (enclosureSize && enclosureSize > 0 ? enclosureSize : null),
  };
}

function atomEntry(node: Node): ParsedItem | null {
  const title = text(child(node, 'title'));
  const links = children(node, 'link').map((l) => ({
    href: attr(l, 'href') ?? text(l),
    rel: attr(l, 'rel') ?? 'alternate',
    type: attr(l, 'type'),
    length: attr(l, 'length'),
  }));
  const torrent =
    links.find((l) => l.href && l.rel === 'enclosure' && looksLikeTorrent(l.href, l.type)) ??
    links.find((l) => l.href && looksLikeTorrent(l.href, l.type)) ??
    links.find((l) => l.href && l.rel === 'enclosure');
  const magnetUri = text(child(node, 'magnetURI'));
  const torrentUrl = torrent?.href ?? (magnetUri && isMagnet(magnetUri) ? magnetUri : null);
  const page = links.find((l) => l.rel === 'alternate' && l.href && l.href !== torrentUrl)?.href ?? null;
  const guid = text(child(node, 'id')) ?? torrentUrl ?? page ?? title;
  if (guid === null) return null;
  const size = number(torrent?.length ?? null);
  return {
    guid: clip(guid),
    title: clip(title ?? guid),
    torrentUrl,
    link: page,
    publishedAt: date(text(child(node, 'published')) ?? text(child(node, 'updated'))),
    size: number(text(child(node, 'contentLength'))) ?? (size && size > 0 ? size : null),
  };
}

/**
 * The text of a feed's bytes: a BOM, else the XML declaration's encoding (ISO-8859-1 and
 * windows-1252 feeds exist), else UTF-8.
 */
export function decodeFeed(bytes: Uint8Array): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const declared = /^(?:\uFEFF|ï»¿)?<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(head)?.[1];
  if (declared) {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // An encoding TextDecoder does not know: read it as UTF-8, the XML default.
    }
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Item URLs relative to the feed (an enclosure of "/dl/1.torrent") made absolute; anything but
 * http(s) (and magnet for the torrent) dropped — a feed is someone else's text, and a
 * `javascript:` link must never reach the web page.
 */
function absolute(items: ParsedItem[], base: string | undefined): ParsedItem[] {
  const fix = (u: string | null, magnet: boolean) => {
    if (u === null) return null;
    if (magnet && /^magnet:\?/i.test(u)) return u;
    let url: URL;
    try {
      url = base === undefined ? new URL(u) : new URL(u, base);
    } catch {
      return null;
    }
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  };
  return items.map((i) => ({ ...i, torrentUrl: fix(i.torrentUrl, true), link: fix(i.link, false) }));
}

/** Parses a feed document (`baseUrl`: where it came from, for relative links); throws FeedFormatError saying why it is not one. */
export function parseFeed(xml: string, baseUrl?: string): ParsedFeed {
  const feed = parseDocument(xml);
  return { ...feed, items: absolute(feed.items, baseUrl) };
}

function parseDocument(xml: string): ParsedFeed {
  const lib = xmlLibrary();
  const valid = lib.validate(xml);
  if (valid !== true) {
    throw new FeedFormatError(`not XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  let doc: Node;
  try {
    doc = lib.parser.parse(xml) as Node;
  } catch (err) {
    throw new FeedFormatError(`not XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('!') && !k.startsWith('#'));
  const top = root === undefined ? undefined : doc[root];
  const rootNode: Node = top && typeof top === 'object' ? (top as Node) : {};
  const keep = (items: (ParsedItem | null)[]) => items.filter((i): i is ParsedItem => i !== null).slice(0, MAX_PARSED_ITEMS);
  if (root === 'rss') {
    const channel = children(rootNode, 'channel')[0];
    if (!channel) throw new FeedFormatError('not a feed: <rss> without a <channel>');
    return { kind: 'rss', title: text(child(channel, 'title')), items: keep(children(channel, 'item').map(rssItem)) };
  }
  if (root === 'feed' || root?.endsWith(':feed')) {
    return { kind: 'atom', title: text(child(rootNode, 'title')), items: keep(children(rootNode, 'entry').map(atomEntry)) };
  }
  if (root === 'RDF' || root?.endsWith(':RDF')) {
    const channel = children(rootNode, 'channel')[0];
    return { kind: 'rdf', title: channel ? text(child(channel, 'title')) : null, items: keep(children(rootNode, 'item').map(rssItem)) };
  }
  throw new FeedFormatError(`not a feed: the document is <${root ?? 'nothing'}>, not <rss> or Atom <feed>`);
}
