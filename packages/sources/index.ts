// @cascade/sources: what a download can be named by and drawn from besides the swarm — the
// identifier classifier (the protocol manager's choice of handler), range sources over HTTP(S) and
// FTP, and the plain-file downloader (every mirror at once, SHA-256 checked). Node.
export { ACCEPTED, UnknownIdentifier, classifyIdentifier, parseSha256, type Identifier } from './src/classify.ts';
export { openRangeSource, type RangeSource } from './src/range-source.ts';
export { ftpRangeRead, ftpSize } from './src/ftp.ts';
export { PlainDownload, Sha256Mismatch, nameFromUrl, type PlainDownloadOptions, type PlainProgress, type PlainResult, type PlainSourceStats } from './src/plain-download.ts';
export type { ContentResolver, ResolvedContent } from './src/content-resolver.ts';
