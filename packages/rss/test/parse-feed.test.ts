// Feed documents: RSS 2.0 with enclosures, ezRSS <torrent:magnetURI>, <link> to a .torrent or a
// magnet; Atom with rel="enclosure"; RSS 1.0; and what is not a feed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFeed, decodeFeed, FeedFormatError } from '../src/parse-feed.ts';

const MAGNET = 'magnet:?xt=urn:btih:' + 'ab'.repeat(20) + '&dn=x';

test('RSS 2.0: enclosure, magnetURI, link to a .torrent, guid, dates, sizes', () => {
  const f = parseFeed(`<?xml version="1.0"?>
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/"><channel><title>Feed &amp; Co</title>
<item><title>Show S01E01</title><guid isPermaLink="false">g1</guid><link>http://site/page1</link>
  <enclosure url="http://site/a.torrent" type="application/x-bittorrent" length="1000"/><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title><![CDATA[Show S01E02 <b>]]></title><torrent:magnetURI><![CDATA[${MAGNET}]]></torrent:magnetURI><torrent:contentLength>555</torrent:contentLength>
  <link>http://site/page2</link></item>
<item><title>Show S01E03</title><link>http://site/dl/c.torrent?key=1</link></item>
<item><title>Show S01E04</title><link>${MAGNET.replace(/&/g, '&amp;')}</link></item>
<item><title>No torrent</title><link>http://site/page5</link></item>
<item><title>Hash only</title><torrent:infoHash>${'CD'.repeat(20)}</torrent:infoHash></item>
</channel></rss>`);
  assert.equal(f.kind, 'rss');
  assert.equal(f.title, 'Feed & Co');
  assert.equal(f.items.length, 6);
  assert.equal(f.items[5]!.torrentUrl, `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=Hash%20only`);
  const [a, b, c, d, e] = f.items;
  assert.deepEqual(a, { guid: 'g1', title: 'Show S01E01', torrentUrl: 'http://site/a.torrent', link: 'http://site/page1', publishedAt: Date.parse('2026-11-23T10:00:00Z'), size: 1000 });
  assert.equal(b!.title, 'Show S01E02 <b>');
  assert.equal(b!.torrentUrl, MAGNET);
  assert.equal(b!.size, 555);
  assert.equal(b!.guid, MAGNET); // no guid: the torrent identifies the item
  assert.equal(c!.torrentUrl, 'http://site/dl/c.torrent?key=1');
  assert.equal(c!.link, null);
  assert.equal(d!.torrentUrl, MAGNET);
  // An item with only a web page: that page is its "torrent" (qBittorrent's fallback: link).
  assert.equal(e!.torrentUrl, null);
  assert.equal(e!.link, 'http://site/page5');
});

test('Atom: rel=enclosure .torrent, id, updated', () => {
  const f = parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>
<entry><title>Film 2026</title><id>urn:1</id><updated>2026-11-20T08:00:00Z</updated>
 <link rel="alternate" href="http://site/p"/><link rel="enclosure" type="application/x-bittorrent" href="http://site/f.torrent" length="77"/></entry>
<entry><title>Magnet entry</title><id>urn:2</id><link href="${MAGNET.replace(/&/g, '&amp;')}"/></entry>
</feed>`);
  assert.equal(f.kind, 'atom');
  assert.equal(f.title, 'Atom');
  assert.deepEqual(f.items[0], { guid: 'urn:1', title: 'Film 2026', torrentUrl: 'http://site/f.torrent', link: 'http://site/p', publishedAt: Date.parse('2026-11-20T08:00:00Z'), size: 77 });
  assert.equal(f.items[1]!.torrentUrl, MAGNET);
});

test('RSS 1.0 (RDF) items', () => {
  const f = parseFeed(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel><title>RDF</title></channel><item><title>One</title><link>http://site/one.torrent</link></item></rdf:RDF>`);
  assert.equal(f.kind, 'rdf');
  assert.equal(f.items[0]!.torrentUrl, 'http://site/one.torrent');
});

test('not XML, not a feed: clear errors; entities are not expanded', () => {
  assert.throws(() => parseFeed('<rss><channel><item><title>cut'), (e: unknown) => e instanceof FeedFormatError && /^not XML/.test(e.message));
  assert.throws(() => parseFeed('{"json": true}'), /not XML/);
  assert.throws(() => parseFeed('<html><body>hi</body></html>'), /not a feed: the document is <html>/);
  assert.throws(() => parseFeed('<rss version="2.0"></rss>'), /without a <channel>/);
  const bomb = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<rss><channel><title>t</title><item><title>&c;</title><guid>1</guid></item></channel></rss>`;
  const f = parseFeed(bomb);
  assert.ok(f.items[0]!.title.length < 100);
});

test('relative links are made absolute against the feed; encodings are read from the declaration', () => {
  const f = parseFeed('<rss><channel><item><title>R</title><enclosure url="/dl/r.torrent" type="application/x-bittorrent"/><link>page/r</link></item></channel></rss>', 'http://site/feeds/tv.xml');
  assert.equal(f.items[0]!.torrentUrl, 'http://site/dl/r.torrent');
  assert.equal(f.items[0]!.link, 'http://site/feeds/page/r');
  const latin1 = new Uint8Array([...Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>Caf'), 0xe9, ...Buffer.from('</title><guid>1</guid></item></channel></rss>')]);
  assert.equal(parseFeed(decodeFeed(latin1)).items[0]!.title, 'Café');
  assert.equal(parseFeed(decodeFeed(new Uint8Array(Buffer.from('<rss><channel><item><title>Café ✓</title><guid>1</guid></item></channel></rss>')))).items[0]!.title, 'Café ✓');
  const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('<rss><channel><item><title>Ü</title><guid>1</guid></item></channel></rss>', 'utf16le')]);
  assert.equal(parseFeed(decodeFeed(utf16)).items[0]!.title, 'Ü');
});

test('links other than http(s) and magnets are dropped (javascript:, data:, file:)', () => {
  const f = parseFeed(`<rss><channel>
<item><title>A</title><guid>a</guid><link>javascript:alert(1)</link><enclosure url="file:///etc/passwd" type="application/x-bittorrent"/></item>
<item><title>B</title><guid>b</guid><link>data:text/html,hi</link><enclosure url="http://site/b.torrent"/></item>
</channel></rss>`, 'http://site/feed');
  assert.deepEqual(f.items.map((i) => [i.torrentUrl, i.link]), [[null, null], ['http://site/b.torrent', null]]);
});

test('character references and HTML entities in titles are decoded; control characters dropped', () => {
  const f = parseFeed('<rss><channel><item><title>It&#39;s &#x2013; ok &amp;amp; &lt;b&gt; &copy; 2026&#0;&#7;</title><guid>1</guid></item></channel></rss>');
  assert.equal(f.items[0]!.title, 'It\'s – ok &amp; <b> © 2026');
});
