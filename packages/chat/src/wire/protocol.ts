// The socket.io protocol of the `/chat` namespace, shared by server and client.
// Every client→server event takes one argument object and an ack callback answering `Ack<T>`.
import type { Envelope } from './envelope.ts';
import type { Profile } from './identity.ts';
import type { Invitation, RoomCharter, RoomState } from './rooms.ts';
import type { IceServer } from '@cascade/shapes';

export const CHAT_NAMESPACE = '/chat';
export const AUTH_DOMAIN = 'cascade-chat/auth/v1';

export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: string; message?: string };

export type { IceServer };

export interface ChatLimits {
  /** bytes of one envelope's JSON */
  maxEnvelopeBytes: number;
  /** envelopes in one `send` */
  maxBatch: number;
  /** token bucket per user: burst size and refill rate (a text message costs 1, twenty sender keys cost 1) */
  rateBurst: number;
  ratePerSecond: number;
  /** token bucket per user for typing / presence / WebRTC signaling */
  signalBurst: number;
  signalPerSecond: number;
  maxSignalBytes: number;
  maxRoomMembers: number;
  /** how far an envelope's timestamp may be from the server's clock */
  maxClockSkewMs: number;
  /** rooms a user may create (new public rooms and groups): burst and refill per second */
  roomBurst: number;
  roomsPerSecond: number;
  /** every budget above also holds per connection and, this many times larger, per remote address */
  addressFactor: number;
  /** distinct identities one address may sign in within `identityWindowMs` */
  maxIdentitiesPerAddress: number;
  identityWindowMs: number;
}

export const DEFAULT_LIMITS: ChatLimits = {
  maxEnvelopeBytes: 32 * 1024,
  maxBatch: 300,
  rateBurst: 20,
  ratePerSecond: 2,
  signalBurst: 60,
  signalPerSecond: 10,
  maxSignalBytes: 16 * 1024,
  maxRoomMembers: 256,
  maxClockSkewMs: 10 * 60_000,
  roomBurst: 20,
  roomsPerSecond: 1 / 30,
  addressFactor: 5,
  maxIdentitiesPerAddress: 20,
  identityWindowMs: 60 * 60_000,
};

export interface StoredEnvelope {
  seq: number;
  env: Envelope;
}

/** Server → client pushes. */
export interface ServerPushes {
  env: { seq: number; env: Envelope; copy?: boolean };
  presence: { did: string; online: boolean };
  typing: { from: string; to: string };
  'room:update': { room: RoomState };
  'room:removed': { room: string };
  invite: { invitation: Invitation; charter: RoomCharter };
  'rtc:signal': { from: string; fromSocket: string; data: unknown };
}

/** Client → server requests and their ack payloads. */
export interface ClientRequests {
  'auth:challenge': [object, { nonce: string }];
  auth: [{ did: string; sig: string; profile: Profile }, { did: string; iceServers: IceServer[]; limits: ChatLimits }];
  'profile:get': [{ dids: string[] }, { profiles: Profile[] }];
  'profile:put': [{ profile: Profile }, object];
  'presence:get': [{ dids: string[] }, { online: string[] }];
  send: [{ envs: Envelope[]; copy?: boolean }, { results: { id: string; seq: number; duplicate?: boolean }[] }];
  sync: [{ since: number; limit?: number }, { items: StoredEnvelope[]; more: boolean; last: number }];
  'rooms:list': [object, { rooms: RoomState[]; invites: { invitation: Invitation; charter: RoomCharter }[]; directory: { id: string; name: string; members: number }[] }];
  'room:create': [{ charter: RoomCharter }, { room: RoomState }];
  'room:join': [{ room: string; name?: string; invitation?: Invitation }, { room: RoomState }];
  'room:invite': [{ invitation: Invitation }, object];
  'room:leave': [{ room: string }, object];
  typing: [{ to: string }, object];
  'rtc:signal': [{ to: string; toSocket?: string; data: unknown }, object];
}
