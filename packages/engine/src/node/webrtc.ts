// WebRTC in Node through node-datachannel (libdatachannel): the same RTCPeerConnection API as a
// browser, so the platform-free WebSocket tracker client drives it unchanged. This is what makes a
// Session a hybrid peer: TCP peers and browser peers trade pieces of the same torrents.

import { createRequire } from 'node:module';
import type { WebRtcOptions } from '../api.ts';
import type { RTCPeerConnectionCtor, WebRtcEnv } from '../discovery/ws-pool.ts';
import { youngBufferCollector } from './young-buffers.ts';

/** A node asks no third party by default: host candidates until its owner names ICE servers or the
 *  node finds them on the Cascade trackers it announces to (the server's NodeNetwork sets them). */
export const NODE_DEFAULT_ICE_SERVERS: RTCIceServer[] = [];

/** node-datachannel passes a TURN server to libdatachannel as `turn:user:pass@host`, unescaped: a
 *  coturn user name (`<expiry>:<label>`) or a password holding ':' or '@' would be cut wrong. Percent-
 *  encoded, libdatachannel decodes them back. */
export function forLibdatachannel(list: RTCIceServer[]): RTCIceServer[] {
  return list.map((s) => (s.username !== undefined || s.credential !== undefined
    ? { ...s, ...(s.username !== undefined ? { username: encodeURIComponent(s.username) } : {}), ...(typeof s.credential === 'string' ? { credential: encodeURIComponent(s.credential) } : {}) }
    : s));
}

/** Bytes of data-channel messages between two young collections asked for (see nodeWebRtcEnv). */
export const WEBRTC_YOUNG_EVERY = 4 * 1024 * 1024;

/** `outgoing`: the session's concrete --host: WebSocket trackers are reached from it, and ICE binds
 *  to it unless the options name another address. */
export function nodeWebRtcEnv(opts: WebRtcOptions = {}, outgoing?: string): WebRtcEnv {
  const config: RTCConfiguration & Record<string, unknown> = { iceServers: forLibdatachannel(opts.iceServers ?? NODE_DEFAULT_ICE_SERVERS) };
  const bind = opts.bindAddress ?? outgoing;
  if (bind) config.bindAddress = bind;
  if (opts.portRange) {
    config.portRangeBegin = opts.portRange[0];
    config.portRangeEnd = opts.portRange[1];
  }
  // Each message is a fresh off-heap ArrayBuffer (node-datachannel's polyfill), garbage once the
  // wire has copied its blocks out: given back by young collections before they cost full ones.
  // Every 4 MiB, not the default 16: at 16 a downloader still ran 4–22 full collections per 256 MiB
  // (main thread and V8 workers marking), at 4 one (bench/nat/README.md, branch rtc5).
  return { RTCPeerConnection: lazyPeerConnection(), config, received: youngBufferCollector(WEBRTC_YOUNG_EVERY), ...(outgoing ? { WebSocket: boundWebSocket(outgoing) } : {}) };
}

/** The `ws` package's WebSocket (the browser API, as the tracker client uses it) from `localAddress`. */
function boundWebSocket(localAddress: string): typeof WebSocket {
  const WS = createRequire(import.meta.url)('ws') as new (url: string, opts: { localAddress: string }) => WebSocket;
  return class extends WS {
    constructor(url: string) {
      super(url, { localAddress });
    }
  } as unknown as typeof WebSocket;
}

/** Loading libdatachannel costs ~0.2 s and some memory at start-up; most sessions never open a
 *  WebRTC connection (no ws:// tracker), so the native module is loaded on first use. */
function lazyPeerConnection(): RTCPeerConnectionCtor {
  let ctor: RTCPeerConnectionCtor | undefined;
  const load = (): RTCPeerConnectionCtor => {
    if (!ctor) {
      const require = createRequire(import.meta.url);
      // libdatachannel's own log (ICE candidates, checks, DTLS), for diagnosing a connection that
      // never opens: CASCADE_WEBRTC_LOG=Debug (or Verbose, Info, Warning, Error).
      const level = process.env.CASCADE_WEBRTC_LOG;
      if (level) {
        const ndc = require('node-datachannel') as { initLogger(level: string, cb: (level: string, message: string) => void): void };
        ndc.initLogger(level, (l, message) => process.stderr.write(`webrtc ${l}: ${message}\n`));
      }
      const mod = require('node-datachannel/polyfill') as { RTCPeerConnection: unknown };
      ctor = mod.RTCPeerConnection as RTCPeerConnectionCtor;
    }
    return ctor;
  };
  return function LazyRTCPeerConnection(config?: RTCConfiguration) {
    return new (load())(config);
  } as unknown as RTCPeerConnectionCtor;
}
