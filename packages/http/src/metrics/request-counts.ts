// cascade_http_requests_total's tally, kept from the node's start without prom-client: the
// collectors (collectors.ts, and prom-client with them) load at the first scrape, and the counter
// then reads every request answered since the start from here.

/** The route label of a request no route matched (404s, the web app's page fallback). */
export const UNMATCHED_ROUTE = 'unmatched';

export interface RequestSeries {
  readonly route: string;
  readonly method: string;
  readonly status: string;
  count: number;
}

export class RequestCounts {
  /** By route, method and status; a Map keeps the order each series was first seen in. */
  readonly #series = new Map<string, RequestSeries>();

  /** Counts one answered request (called from the onResponse hook: one lookup, no I/O). */
  count(route: string | undefined, method: string, status: number): void {
    const r = route ?? UNMATCHED_ROUTE;
    const key = `${r}\n${method}\n${status}`;
    const known = this.#series.get(key);
    if (known) known.count++;
    else this.#series.set(key, { route: r, method, status: String(status), count: 1 });
  }

  series(): IterableIterator<RequestSeries> {
    return this.#series.values();
  }
}
