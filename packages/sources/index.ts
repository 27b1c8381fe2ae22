// @cascade/sources: what a download can be named by and drawn from besides the swarm — the
// identifier classifier (the protocol manager's choice of handler), range sources over HTTP(S) and
// FTP, and the plain-file downloader (every mirror at once, SHA-256 checked). Node.
export { ACCEPTED, UnknownIdentifier, classifyIdentifier, parseSha256, type Identifier } from './src/naming/classify.ts';
export { openRangeSource, type RangeSource } from './src/ranges/range-source.ts';
export { ftpRangeRead, ftpSize } from './src/ranges/ftp.ts';
export { PlainDownload, Sha256Mismatch, nameFromUrl, type PlainDownloadOptions, type PlainProgress, type PlainResult, type PlainSourceStats } from './src/ranges/plain-download.ts';
export type { ContentResolver, ResolvedContent } from './src/naming/content-resolver.ts';
