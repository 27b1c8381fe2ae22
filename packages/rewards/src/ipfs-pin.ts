// Pinning metadata blocks to an IPFS node over Kubo's RPC API (`--ipfs-api URL`): the block goes
// in as raw bytes with its codec and hash named (POST /api/v0/block/put?cid-codec=dag-json&
// mhtype=sha2-256&pin=true, multipart body), and Kubo answers with the CID it computed, which must
// be the one on chain — a mismatch means the node and Kubo disagree about the bytes.
import { errorMessage } from '@cascade/node/basics';

const PIN_TIMEOUT_MS = 15_000;

export interface PinResult {
  pinned: boolean;
  /** Why not, when not pinned. */
  error?: string;
}

export async function pinBlock(apiUrl: string, cid: string, bytes: Uint8Array): Promise<PinResult> {
  const url = new URL('/api/v0/block/put', apiUrl);
  url.searchParams.set('cid-codec', 'dag-json');
  url.searchParams.set('mhtype', 'sha2-256');
  url.searchParams.set('pin', 'true');
  const form = new FormData();
  form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), cid);
  try {
    const res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(PIN_TIMEOUT_MS) });
    const text = await res.text();
    if (!res.ok) return { pinned: false, error: `${apiUrl} answered ${res.status}: ${text.slice(0, 200)}` };
    const key = (JSON.parse(text) as { Key?: unknown }).Key;
    if (key !== cid) return { pinned: false, error: `${apiUrl} stored it as ${String(key)}, not ${cid}` };
    return { pinned: true };
  } catch (err) {
    return { pinned: false, error: `${apiUrl}: ${errorMessage(err)}` };
  }
}
