// Storing a metadata block on Arweave and reading it back, with the `arweave` client. What is
// stored is the block's exact bytes (a format 2 transaction, data tagged with its content type and
// CID); what is read back is trusted only after the checks a reader can make without trusting the
// gateway: the transaction's id is the hash of its signature, the signature verifies against the
// owner's key, and the data hashes to the signed data_root. Whether the data is the block the
// caller expected (its CID) is the caller's check.
import { readFileSync } from 'node:fs';
import Arweave from 'arweave';
import type { JWKInterface } from 'arweave/node/lib/wallet.js';
import { generateTransactionChunks } from 'arweave/node/lib/merkle.js';

export type { JWKInterface };

export type ArweaveErrorKind = 'wallet' | 'unreachable' | 'refused' | 'not-found' | 'mismatch';

export class ArweaveError extends Error {
  readonly kind: ArweaveErrorKind;
  constructor(kind: ArweaveErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

const JWK_PARTS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** An Arweave wallet (an RSA private key as a JWK) from a key file; throws ArweaveError('wallet') with why not. */
export function readWallet(path: string): JWKInterface {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ArweaveError('wallet', `cannot read the Arweave wallet ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ArweaveError('wallet', `${path} is not an Arweave wallet: not JSON (a wallet is an RSA key as a JWK, as arweave.app or \`arweave key-create\` write it)`);
  }
  const k = jwk as Record<string, unknown>;
  const missing = JWK_PARTS.filter((p) => typeof k?.[p] !== 'string' || !/^[A-Za-z0-9_-]+$/.test(k[p] as string));
  if (typeof jwk !== 'object' || jwk === null || k.kty !== 'RSA' || missing.length > 0) {
    throw new ArweaveError('wallet', `${path} is not an Arweave wallet: a JWK with kty "RSA" and ${JWK_PARTS.join(', ')} is wanted${missing.length ? ` (missing or not base64url: ${missing.join(', ')})` : ''}`);
  }
  return jwk as JWKInterface;
}

/** A new wallet (RSA 4096), as `arweave key-create` makes one: for tests and first use. */
export function newWallet(): Promise<JWKInterface> {
  return Arweave.init({}).wallets.generate();
}

/** A client for the gateway at `url` (http or https, any port). */
export function client(url: string): Arweave {
  const u = new URL(url);
  const protocol = u.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https') throw new ArweaveError('unreachable', `an Arweave gateway is an http(s) URL, not ${url}`);
  return Arweave.init({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (protocol === 'https' ? 443 : 80)), protocol, timeout: 20_000 });
}

/** A network failure as the gateway's: "did not answer" and the code (ECONNREFUSED…). */
function unreachable(url: string, err: unknown): ArweaveError {
  if (err instanceof ArweaveError) return err;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new ArweaveError('unreachable', `the Arweave gateway at ${url} did not answer: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
}

export interface Stored {
  /** The transaction id (base64url, 43 characters). */
  id: string;
  /** The wallet's address: who signed and paid. */
  owner: string;
  /** What the gateway quoted for it, in winston. */
  reward: string;
}

/**
 * Stores `bytes` in a transaction signed by `wallet`, tagged `tags` (Content-Type first, then the
 * rest). Small data goes in the transaction's body, larger in 256 KiB chunks after it (the client
 * decides). Resolves once the gateway accepted it; mining follows on the network's own time.
 */
export async function storeOnArweave(url: string, wallet: JWKInterface, bytes: Uint8Array, tags: Record<string, string>): Promise<Stored> {
  const ar = client(url);
  try {
    const tx = await ar.createTransaction({ data: bytes }, wallet);
    for (const [name, value] of Object.entries(tags)) tx.addTag(name, value);
    await ar.transactions.sign(tx, wallet);
    const uploader = await ar.transactions.getUploader(tx, bytes);
    while (!uploader.isComplete) {
      await uploader.uploadChunk().catch((err: unknown) => {
        if (uploader.lastResponseStatus > 0) {
          throw new ArweaveError('refused', `the Arweave gateway at ${url} refused the transaction: ${uploader.lastResponseStatus} ${uploader.lastResponseError}`.trim());
        }
        throw err;
      });
    }
    return { id: tx.id, owner: await ar.wallets.jwkToAddress(wallet), reward: tx.reward };
  } catch (err) {
    if (err instanceof ArweaveError) throw err;
    // The client reports a bad answer (a price that is not digits, say) as a plain Error with the status.
    if (/Received: .*Status: \d+/.test((err as Error).message)) throw new ArweaveError('refused', `the Arweave gateway at ${url}: ${(err as Error).message}`);
    throw unreachable(url, err);
  }
}

export interface Fetched {
  bytes: Uint8Array;
  /** The signer's address. */
  owner: string;
  tags: Record<string, string>;
  /** Block height and confirmations; undefined while the transaction is pending. */
  confirmed?: { height: number; confirmations: number };
}

/**
 * The data of transaction `id` from the gateway at `url`, checked against the signed transaction:
 * a transaction that is not validly signed, or data that does not hash to its data_root, throws
 * ArweaveError('mismatch'); an unknown id 'not-found'. Data is read as the client reads it — by
 * chunks from the weave, else whole from the gateway's cache at /{id}.
 */
export async function fetchFromArweave(url: string, id: string): Promise<Fetched> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) throw new ArweaveError('not-found', `${id} is not an Arweave transaction id`);
  const ar = client(url);
  let res;
  try {
    res = await ar.api.get(`tx/${id}`);
  } catch (err) {
    throw unreachable(url, err);
  }
  if (res.status === 404) throw new ArweaveError('not-found', `the Arweave gateway at ${url} has no transaction ${id}`);
  if (res.status === 202) throw new ArweaveError('not-found', `transaction ${id} is still pending at ${url}: try again once it is mined`);
  if (res.status !== 200 || typeof res.data !== 'object') throw new ArweaveError('refused', `the Arweave gateway at ${url} answered ${res.status} for transaction ${id}`);
  const tx = ar.transactions.fromRaw(res.data as object);
  if (tx.id !== id) throw new ArweaveError('mismatch', `the gateway answered transaction ${tx.id} for ${id}`);
  const signed = await ar.transactions.verify(tx).catch(() => false);
  if (!signed) throw new ArweaveError('mismatch', `transaction ${id} from ${url} is not validly signed`);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await ar.chunks.downloadChunkedData(id);
  } catch {
    // As the client's getData does: the gateway's contiguous copy when the chunks are not served.
    const whole = await ar.api.get(id, { responseType: 'arraybuffer' }).catch((err: unknown) => {
      throw unreachable(url, err);
    });
    if (whole.ok) bytes = new Uint8Array(whole.data as ArrayBuffer);
  }
  if (!bytes) throw new ArweaveError('not-found', `the Arweave gateway at ${url} has no data for transaction ${id}`);
  const root = bytes.byteLength === 0 ? '' : Arweave.utils.bufferTob64Url((await generateTransactionChunks(bytes)).data_root);
  if (String(bytes.byteLength) !== tx.data_size || root !== tx.data_root) {
    throw new ArweaveError('mismatch', `the data ${url} gave for transaction ${id} does not match the data root it was signed with`);
  }
  const tags: Record<string, string> = {};
  for (const t of tx.tags) tags[t.get('name', { decode: true, string: true })] = t.get('value', { decode: true, string: true });
  const status = await ar.transactions.getStatus(id).catch(() => undefined);
  const conf = status?.confirmed;
  return { bytes, owner: await ar.wallets.ownerToAddress(tx.owner), tags, ...(conf ? { confirmed: { height: conf.block_height, confirmations: conf.number_of_confirmations } } : {}) };
}
