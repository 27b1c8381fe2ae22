// A session as `cascade serve` makes it for its torrents' URLs (the node's URL guard), announcing
// one torrent: guard-families.test.ts runs it with an /etc/hosts of its own (a mount namespace),
// where `localhost` has both 127.0.0.1 and ::1. argv: the .torrent file, its data's folder.
// Prints {"peerIdHex", "port"} once the torrent is added; ends with stdin.
import { readFileSync } from 'node:fs';
import { Session } from '@cascade/engine';
import { torrentUrlGuard } from '@cascade/sources/guarded';

const [file, dir] = process.argv.slice(2) as [string, string];
const s = await Session.create({ dht: false, webrtc: false, urlGuard: torrentUrlGuard({ allowPrivate: true, exempt: () => [] }) });
await s.add(readFileSync(file), { savePath: dir });
process.stdout.write(`${JSON.stringify({ peerIdHex: s.peerIdHex, port: s.port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void s.close().then(() => process.exit(0)));
