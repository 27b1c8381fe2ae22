// A running relay (Node): the circuit switch on a port that takes TCP and WebSocket links, an
// onion key that rotates (the previous one keeps working for one more period), and a signed
// descriptor published to a directory and republished before it expires.
import type { Identity } from '@cascade/identity';
import { RelayCore, type RelayCoreOptions, type TunnelHandler } from '../relay/relay.ts';
import { generateOnionKey, relayIdDigest, type OnionKeyPair } from '../protocol/ntor.ts';
import { b64u, signDescriptor, type RelayDescriptor } from '../directory/descriptor.ts';
import { exitHandler, exitOperations, type ExitExecutor } from '../exit/exit.ts';
import { publishDescriptor } from '../directory/directory-client.ts';
import { listenLinks, WS_PATH, type LinkListener } from './listener.ts';
import { dialRelay } from './ws-link.ts';
import { signalServer, type SignalServer } from './signal-server.ts';
import { SIGNAL_PATH } from '../relay/signal.ts';

export interface RelayNodeOptions {
  identity: Identity;
  /** Bind address of the relay port, and the source address of its outgoing links. */
  host: string;
  port?: number;
  /** The address others reach it at; default `host` (127.0.0.1 when host is 0.0.0.0). */
  publicHost?: string;
  /** Directory base URLs (Cascade trackers) to publish the descriptor to. */
  directories?: string[];
  exit?: ExitExecutor;
  /** WebSocket tracker sessions tunnelled for circuits ending here (with `exit`). */
  tunnel?: TunnelHandler;
  onionKeyRotateMs?: number;
  descriptorLifetimeMs?: number;
  observe?: RelayCoreOptions['observe'];
  /** See RelayCoreOptions.checkExtend. */
  checkExtend?: RelayCoreOptions['checkExtend'];
  onEvent?: (name: string, fields: Record<string, unknown>) => void;
  /** Serve signalling for tab relays (default true): browsers that relay are reached through it. */
  signal?: boolean;
}

export interface RunningRelay {
  readonly port: number;
  readonly core: RelayCore;
  /** Tab relays registered for signalling here (undefined when it serves none). */
  readonly signal: SignalServer | undefined;
  descriptor(): RelayDescriptor;
  /** Publishes now to every directory; resolves with each one's outcome. */
  publish(): Promise<{ directory: string; ok: boolean; error?: string }[]>;
  close(): Promise<void>;
}

const HOUR = 3600_000;

export async function startRelay(o: RelayNodeOptions): Promise<RunningRelay> {
  let keys: OnionKeyPair[] = [generateOnionKey()];
  const outgoing = o.host === '0.0.0.0' || o.host === '::' ? undefined : o.host;
  const core = new RelayCore({
    idDigest: relayIdDigest(o.identity.signPublic),
    onionKeys: () => keys,
    dial: (address, signal) => dialRelay(address, signal, outgoing),
    ...(o.exit ? { exit: exitHandler(o.exit) } : {}),
    ...(o.exit && o.tunnel ? { tunnel: o.tunnel } : {}),
    ...(o.observe ? { observe: o.observe } : {}),
    ...(o.checkExtend ? { checkExtend: o.checkExtend } : {}),
  });
  const signal = o.signal === false ? undefined : signalServer();
  const listener: LinkListener = await listenLinks(o.host, o.port ?? 0, (link) => core.attach(link), signal);
  const publicHost = o.publicHost ?? (outgoing ?? '127.0.0.1');
  const hostPart = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  const lifetime = o.descriptorLifetimeMs ?? HOUR;
  let current: RelayDescriptor;
  const sign = () => {
    const now = Date.now();
    current = signDescriptor(o.identity, {
      onionKey: b64u(keys[0]!.public),
      tcp: `${hostPart}:${listener.port}`,
      ws: `ws://${hostPart}:${listener.port}${WS_PATH}`,
      ...(signal ? { signal: `ws://${hostPart}:${listener.port}${SIGNAL_PATH}` } : {}),
      exit: o.exit ? { operations: [...exitOperations(o.exit), ...(o.tunnel ? (['ws-tracker'] as const) : [])], proxy: false } : null,
      published: now,
      expires: now + lifetime,
    });
  };
  sign();
  const publish = async () =>
    Promise.all(
      (o.directories ?? []).map(async (directory) => {
        try {
          await publishDescriptor(directory, current);
          o.onEvent?.('relay-published', { directory });
          return { directory, ok: true };
        } catch (err) {
          const error = (err as Error).message;
          o.onEvent?.('relay-publish-failed', { directory, error });
          return { directory, ok: false, error };
        }
      }),
    );
  // Republish at a third of the lifetime, so a missed turn or two still leaves a valid descriptor.
  const republish = setInterval(() => {
    sign();
    void publish();
  }, Math.max(1000, lifetime / 3));
  republish.unref();
  const rotate = setInterval(() => {
    keys = [generateOnionKey(), keys[0]!];
    sign();
    void publish();
  }, o.onionKeyRotateMs ?? 6 * HOUR);
  rotate.unref();
  await publish();
  return {
    port: listener.port,
    core,
    signal,
    descriptor: () => current,
    publish,
    async close() {
      clearInterval(republish);
      clearInterval(rotate);
      core.close();
      await listener.close();
    },
  };
}
