// The little of bittorrent-tracker's (untyped) server API the benchmark uses.
declare module 'bittorrent-tracker' {
  export class Server {
    constructor(opts: { udp?: boolean; http?: boolean; ws?: boolean; stats?: boolean; interval?: number; trustProxy?: boolean });
    on(event: 'error' | 'warning', listener: (err: Error) => void): this;
    listen(port: number, hostname: string | { http: string; udp: string; udp6: string }, onListening?: () => void): void;
    close(cb?: () => void): void;
  }
}
