// RangeRead, the shape of a web seed's / mirror's reader: a type of its own so the public API
// (SessionOptions.rangeReaders) names it without importing the web seed code (swarm/webseed.ts).

/** Reads bytes [start, end) of the file at `url`; rejects on anything short of exactly those bytes. */
export type RangeRead = (url: string, start: number, end: number, signal: AbortSignal) => Promise<Uint8Array>;
