// WebRTC in Node through node-datachannel (libdatachannel): the same RTCPeerConnection API as a
// browser, so the platform-free WebSocket tracker client drives it unchanged. This is what makes a
// Session a hybrid peer: TCP peers and browser peers trade pieces of the same torrents.

import { RTCPeerConnection } from 'node-datachannel/polyfill';
import type { WebRtcOptions } from '../api.ts';
import { DEFAULT_ICE_SERVERS, type RTCPeerConnectionCtor, type WebRtcEnv } from '../discovery/tracker-ws.ts';

export function nodeWebRtcEnv(opts: WebRtcOptions = {}): WebRtcEnv {
  const config: RTCConfiguration & Record<string, unknown> = { iceServers: opts.iceServers ?? DEFAULT_ICE_SERVERS };
  if (opts.bindAddress) config.bindAddress = opts.bindAddress;
  if (opts.portRange) {
    config.portRangeBegin = opts.portRange[0];
    config.portRangeEnd = opts.portRange[1];
  }
  return { RTCPeerConnection: RTCPeerConnection as unknown as RTCPeerConnectionCtor, config };
}
