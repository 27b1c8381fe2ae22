// `cascade register <torrent-file|infohash>`, `cascade verify <infohash>` and `cascade rewards [claim]`
// (issue 13): ownership records in the content registry and seeding rewards from the reward pool.
// With a node running on the state directory they go through it (its account signs and receives the
// rewards; it or its external signer pays gas); with none they open the state directory themselves
// (issue 44): its identity, the receipts its `seed`/`download`/`serve` runs kept, and its chain (the
// embedded one in <state dir>/chain, or --chain-rpc). A transaction is waited for as long as it
// takes, with progress lines, never abandoned while it may still go through.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient, DB_FILE, type RpcParams } from '@cascade/node/verbs';
import type { ChainHealth } from '@cascade/rewards';
import type { PendingTx } from '@cascade/chain';
import type { RewardClaim, Rewards } from '@cascade/shapes';
import type { Invocation, Options } from '../parse/args.ts';
import { CliError, UsageError } from '../core/errors.ts';
import { unreachableAt } from '../core/unreachable.ts';
import type { Output } from '../output/output.ts';
import type { Verb } from './node-access.ts';
import { units18 } from '../output/format.ts';
import { arweaveLine, arweaveRecordOf, checkOnArweave, loadArweaveWallet, storeBlockOnArweave } from './arweave-record.ts';

/** A transaction still unmined this long is reported, then again every PROGRESS_EVERY_MS. Short
 *  ones (a dev chain mines at once) print nothing: the result stays the only line. */
const FIRST_PROGRESS_MS = 5000;
const PROGRESS_EVERY_MS = 10_000;

/** With --chain-rpc/--chain-contracts, the running node must be on that chain: a verb never acts
 *  on another chain than the one asked for. */
async function sameChain(node: ControlClient, o: Options): Promise<void> {
  if (o.chain === false || !o.chain.rpcUrl) return;
  const c = await node.call<ChainHealth>('chain');
  // In error, the verb's own call fails with why (the node cannot reach its chain…), said once.
  if (c.state === 'error') return;
  if (c.state !== 'running') throw new CliError(`the running node's chain is ${c.state}, not ${o.chain.rpcUrl}`);
  const want = o.chain.contracts!;
  if (c.chainId !== o.chain.chainId || c.contracts.registry.toLowerCase() !== want.registry.toLowerCase() || c.contracts.pool.toLowerCase() !== want.pool.toLowerCase()) {
    throw new CliError(`the running node is on chain ${c.chainId} (registry ${c.contracts.registry}), not the one given (chain ${o.chain.chainId}, registry ${want.registry})`);
  }
  // Gas is paid by whoever the running node was started with: a verb cannot switch the payer.
  const signer = o.chain.signer;
  if (!signer) return;
  const paidBy = c.signer ? `the external signer at ${c.signer.url}${c.signer.account ? ` (${c.signer.account})` : ''}` : `its own account ${c.account}`;
  if (!c.signer || c.signer.url !== signer.url || (signer.from !== undefined && c.signer.account?.toLowerCase() !== signer.from.toLowerCase())) {
    throw new CliError(`the running node pays gas with ${paidBy}, not with the signer given (${signer.url}${signer.from ? `, ${signer.from}` : ''}): restart it with those options`);
  }
}

/** Where a chain verb's calls go: the running node, or the state directory's own chain. */
interface ChainAccess {
  /** A call that may send a transaction waits without a time limit. */
  call<T>(method: string, params?: RpcParams, sends?: boolean): Promise<T>;
  /** Transactions sent and not yet mined. */
  pending(): Promise<PendingTx[]>;
  /** With no node: receipts the state directory holds for other chains (a node says nothing of them). */
  heldElsewhere(): Promise<{ chainId: string; pool: string; receipts: number }[]>;
  close(): Promise<void>;
}

async function chainAccess(inv: Invocation, out: Output, node: ControlClient | undefined): Promise<ChainAccess> {
  const o = inv.options;
  if (node) {
    await sameChain(node, o);
    // The node's answer to a transaction comes once it is mined: no 30 s limit on that call.
    const patient = new ControlClient(node.info, 0);
    return {
      call: <T>(method: string, params: RpcParams = {}, sends = false) =>
        (sends ? patient : node).call<T>(method, params).catch((err: unknown) => {
          throw unreachableAt(err, "the running node's chain", 'start it, or restart the node with another --chain-rpc') ?? err;
        }),
      // A node from before issue 44 cannot say: the wait is then silent.
      pending: () => node.call<{ pending: PendingTx[] }>('chain.pending').then((r) => r.pending, () => []),
      heldElsewhere: async () => [],
      close: async () => {},
    };
  }
  if (o.chain === false) throw new UsageError('these verbs need a chain');
  const { openChainVerbs } = await import('@cascade/rewards/chain-verbs');
  const chain = await openChainVerbs(o.stateDir, o.chain, out, { ...(o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {}), ...(o.database ? { database: o.database } : {}) });
  return {
    call: async <T>(method: string, params: RpcParams = {}) => (await chain.handlers[method]!(params)) as T,
    pending: async () => ((await chain.handlers['chain.pending']!({})) as { pending: PendingTx[] }).pending,
    heldElsewhere: () => chain.heldElsewhere(),
    close: () => chain.close(),
  };
}

/** `work`, with a progress line (and a `transaction-pending` event) for each transaction it waits on. */
async function withProgress<T>(access: ChainAccess, out: Output, work: Promise<T>): Promise<T> {
  const told = new Map<string, number>();
  const look = async () => {
    const now = Date.now();
    for (const p of await access.pending().catch(() => [])) {
      const last = told.get(p.tx);
      if (now - p.sentAt < FIRST_PROGRESS_MS || (last !== undefined && now - last < PROGRESS_EVERY_MS)) continue;
      told.set(p.tx, now);
      const seconds = Math.round((now - p.sentAt) / 1000);
      out.event('transaction-pending', { what: p.what, tx: p.tx, seconds });
      out.note(`waiting for the ${p.what} to be mined: ${p.tx}, sent ${seconds} s ago (Ctrl-C stops the waiting, not the transaction)`);
    }
  };
  const timer = setInterval(() => void look(), 1000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Runs `fn` on the chain the verb reaches, then closes it; node errors become the CLI's. */
async function onChain<T>(inv: Invocation, out: Output, node: ControlClient | undefined, fn: (access: ChainAccess) => Promise<T>): Promise<T> {
  const access = await chainAccess(inv, out, node);
  try {
    return await fn(access);
  } finally {
    await access.close();
  }
}

export const register: Verb = async (inv, out, node) => {
  const arg = inv.positionals[0]!;
  const params: Record<string, unknown> = {};
  if (existsSync(arg) && statSync(arg).isFile()) params.torrent = readFileSync(arg).toString('base64');
  else if (/^[0-9a-fA-F]{1,40}$/.test(arg)) params.infoHash = arg;
  else throw new UsageError(`register wants a .torrent file or an infohash, got "${arg}"`);
  const ar = inv.options.arweave;
  const wallet = ar?.wallet !== undefined ? await loadArweaveWallet(ar.wallet) : undefined;
  const r = await onChain(inv, out, node, (chain) =>
    withProgress(chain, out, chain.call<{ tx: string | null; infoHash: string; owner: string; metadataCid: string; block: number; pinned?: boolean; pinError?: string }>('register', params, true)),
  );
  // After the registration, which stands either way: the block on Arweave, or why not (exit 1).
  const stored = ar && wallet ? await storeBlockOnArweave(inv.options.stateDir, r.metadataCid, ar.url, wallet).catch((err: unknown) => ({ error: (err as Error).message })) : undefined;
  // Then its transaction id on chain beside the record (setArweaveTx; nothing sent if already there).
  // Refused (an external signer, a registry deployed before it), it stays in the node's record: said.
  const onChain_: { onChain: boolean; onChainTx?: string; onChainError?: string } | undefined = stored && 'tx' in stored
    ? await onChain(inv, out, node, (chain) => withProgress(chain, out, chain.call<{ tx: string | null }>('register.arweave', { infoHash: r.infoHash, tx: stored.tx }, true))).then(
        (c) => ({ onChain: true, ...(c.tx ? { onChainTx: c.tx } : {}) }),
        (err: unknown) => ({ onChain: false, onChainError: (err as Error).message }),
      )
    : undefined;
  const arweave = stored && 'tx' in stored ? { tx: stored.tx, gateway: stored.gateway, owner: stored.owner, stored: stored.stored, onChain: false, ...onChain_ } : stored;
  out.result({ ...r, ...(arweave ? { arweave } : {}) }, () =>
    [
      r.tx === null
        ? `${r.infoHash} is already registered to this node's account ${r.owner} (block ${r.block}), metadata ${r.metadataCid}`
        : `registered ${r.infoHash} to ${r.owner} in block ${r.block} (tx ${r.tx}), metadata ${r.metadataCid}`,
      ...(arweave && 'tx' in arweave
        ? [
            arweave.stored ? `stored on Arweave: transaction ${arweave.tx} (through ${arweave.gateway}, paid by ${arweave.owner})` : `on Arweave already: transaction ${arweave.tx}`,
            arweave.onChain ? `the transaction id is on chain beside the record${arweave.onChainTx ? ` (tx ${arweave.onChainTx})` : ''}` : `the transaction id is kept in the node's record only: ${arweave.onChainError ?? ''}`,
          ]
        : []),
    ].join('\n'),
  );
  // The record stands without the pin (an IPFS node that is down never stops it); text says so too.
  if (r.pinned === false) out.note(`the metadata block is not pinned: ${r.pinError ?? 'the IPFS API refused it'}; start the IPFS node or pass another --ipfs-api`);
  if (arweave && 'error' in arweave) {
    out.note(`the registration stands, but the metadata block is not on Arweave: ${arweave.error}; run register again to retry`);
    return 1;
  }
  return 0;
};

export const verify: Verb = async (inv, out, node) => {
  const ih = inv.positionals[0]!;
  if (!/^[0-9a-fA-F]{40}$/.test(ih)) throw new UsageError(`verify wants a full 40-digit infohash, got "${ih}"`);
  const o = inv.options;
  let r: { owner: string; did: string | null; metadataCid: string; block: number; arweaveTx?: string | null } | undefined;
  try {
    // An external chain read with no node and no state (no state file, no --database): the registry
    // alone (no did: that is in the metadata block, which the state holds).
    const noState = !o.database && !existsSync(join(o.stateDir, DB_FILE));
    if (!node && o.chain !== false && o.chain.rpcUrl && noState) r = await verifyOnChain(ih, o);
    else r = await onChain(inv, out, node, (chain) => chain.call('verify', { infoHash: ih }));
  } catch (err) {
    // "not registered" is an answer, not a failure of the command: exit 1 with it, as documented.
    if (/is not registered/.test((err as Error).message)) {
      out.result({ infoHash: ih.toLowerCase(), registered: false }, () => `${ih.toLowerCase()}: not registered`);
      return 1;
    }
    throw err instanceof Error && !(err instanceof CliError) ? new CliError(err.message, 1, { cause: err }) : err;
  }
  const found = r!;
  // The Arweave transaction register kept beside the CID (read from the state directory, no import);
  // with --arweave, fetched back from that gateway and checked.
  const stateDir = node || existsSync(join(o.stateDir, 'chain')) ? o.stateDir : undefined;
  const kept = stateDir !== undefined ? arweaveRecordOf(stateDir, found.metadataCid) : undefined;
  const chainTx = found.arweaveTx ?? null;
  const arweave = o.arweave ? await checkOnArweave(stateDir, found.metadataCid, ih.toLowerCase(), o.arweave.url, chainTx) : undefined;
  const arweaveTx = chainTx ?? kept?.tx;
  const shown = { ...found, ...(arweaveTx ? { arweaveTx, arweaveTxOnChain: chainTx !== null } : {}), ...(arweave ? { arweave } : {}) };
  out.result(shown, () =>
    [`${ih.toLowerCase()}: owner ${found.owner}${found.did ? ` (${found.did})` : ''}, metadata ${found.metadataCid}, block ${found.block}${arweaveTx ? `, on Arweave as ${arweaveTx} (${chainTx ? 'on chain' : "the node's record"})` : ''}`, ...(arweave ? [arweaveLine(arweave)] : [])].join('\n'),
  );
  // The node's record naming another transaction than the chain: the chain's is the one checked.
  if (chainTx && kept && kept.tx !== chainTx) out.note(`the node's record names Arweave transaction ${kept.tx}, the registry ${chainTx}: the registry's was checked`);
  return arweave && arweave.state !== 'matches' ? 1 : 0;
};

/** verify straight from the registry on --chain-rpc. */
async function verifyOnChain(ih: string, o: Options): Promise<{ owner: string; did: null; metadataCid: string; block: number; arweaveTx: string | null }> {
  if (o.chain === false || !o.chain.rpcUrl) throw new CliError('verify needs --chain-rpc URL --chain-contracts FILE');
  const { recordAt } = await import('@cascade/chain');
  const rec = await recordAt(o.chain.rpcUrl, o.chain.contracts!.registry, ih.toLowerCase());
  if (!rec) throw new CliError(`${ih.toLowerCase()} is not registered`);
  return { owner: rec.owner, did: null, metadataCid: rec.metadataCid, block: rec.block, arweaveTx: rec.arweaveTx };
}

export const rewards: Verb = async (inv, out, node) => {
  const [verb] = inv.positionals;
  if (verb !== undefined && verb !== 'claim') throw new UsageError(`rewards: unknown verb "${verb}" (rewards | rewards claim)`);
  if (verb === 'claim') {
    const c = await onChain(inv, out, node, (chain) => withProgress(chain, out, chain.call<RewardClaim>('rewards.claim', {}, true)));
    out.result(c, () =>
      [
        c.tx === null ? 'nothing new to claim' : `claimed ${c.claimedBytes} bytes (tx ${c.tx})`,
        ...c.skipped.map((s) => `  left out: ${s.infoHash} from ${s.downloader}: ${s.reason}`),
      ].join('\n'),
    );
    return 0;
  }
  const r = await onChain(inv, out, node, async (chain) => {
    const rewards = await chain.call<Rewards>('rewards');
    // Receipts name the chain and pool they pay on: those of a run with other chain options are
    // not counted here, but they are not lost either.
    for (const e of await chain.heldElsewhere().catch(() => [])) {
      out.note(`${e.receipts} more receipt${e.receipts === 1 ? ' is' : 's are'} held for chain ${e.chainId} (pool ${e.pool}): give that chain's --chain-rpc and --chain-contracts to see or claim ${e.receipts === 1 ? 'it' : 'them'}`);
    }
    return rewards;
  });
  out.result(r, () =>
    [
      `earned   ${r.earnedBytes} bytes in ${r.receipts} receipt${r.receipts === 1 ? '' : 's'}`,
      `claimed  ${r.claimedBytes} bytes`,
      `pending  ${r.pendingBytes} bytes (${units18(BigInt(r.pendingBytes) * BigInt(r.rewardPerByte))} SEED at ${units18(BigInt(r.rewardPerByte) * 2n ** 30n)} SEED per GiB)`,
      `balance  ${units18(r.balance)} SEED on ${r.account}`,
    ].join('\n'),
  );
  return 0;
};
