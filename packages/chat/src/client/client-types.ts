// The shapes a ChatClient works with and hands to its UI: conversations, messages, notices, the
// options it is made with, and the socket and outbox store it is given.
import type { Envelope } from '../wire/envelope.ts';
import type { Identity } from '../wire/identity.ts';
import type { RtcConstructor } from './p2p.ts';
import type { IceServer } from '../wire/protocol.ts';
import type { Invitation, RoomCharter, RoomKind, RoomState } from '../wire/rooms.ts';

/** The part of a socket.io-client Socket the client uses. */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn?: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type ConversationKind = 'dm' | RoomKind;
export type Path = 'relay' | 'p2p';

export interface ChatMessage {
  id: string;
  conv: string;
  from: string;
  text: string;
  ts: number;
  seq?: number;
  status: 'sending' | 'sent' | 'received' | 'failed';
  /** how this copy reached this client */
  via: 'local' | 'relay' | 'p2p' | 'history';
}

export interface Conversation {
  id: string;
  kind: ConversationKind;
  peer?: string;
  room?: RoomState;
  /** private-group members without a valid invitation (never given our sender key) */
  rejected: string[];
  messages: ChatMessage[];
  unread: number;
  lastTs: number;
}

export interface ChatNotice {
  n: number;
  ts: number;
  code: string;
  text: string;
  conv?: string;
}

export interface PendingInvite {
  invitation: Invitation;
  charter: RoomCharter;
}

export interface ChatClientOptions {
  identity: Identity;
  socket: SocketLike;
  /** RTCPeerConnection constructor for direct chats; undefined/null = relay only. */
  rtc?: RtcConstructor | null;
  /** Overrides the STUN/TURN list the server hands out. */
  iceServers?: IceServer[];
  requestTimeoutMs?: number;
  p2pAckTimeoutMs?: number;
  p2pConnectTimeoutMs?: number;
  p2pRetryMs?: number;
  /** Keeps unsent envelopes across page reloads (ciphertext only); without it the outbox lives in memory. */
  outboxStore?: OutboxStore;
  /** diagnostics (peer-to-peer negotiation); never message contents */
  debug?: (line: string) => void;
}

export type Outgoing = { envs: Envelope[]; copy: boolean; msgIds: string[] };

export interface OutboxStore {
  load(): Promise<{ envs: Envelope[]; copy: boolean }[]>;
  save(batches: { envs: Envelope[]; copy: boolean }[]): Promise<void> | void;
}

/** The conversation id of a direct chat with `did`. */
export const dmId = (did: string): string => `dm:${did}`;
