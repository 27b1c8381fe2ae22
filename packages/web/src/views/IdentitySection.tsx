// Settings → Identity: who this browser is signed in as, its own key and account, and linking an
// external wallet to its did (the binding is kept in IndexedDB and sent at the next sign-in, so the
// node's session covers the did and the wallet's account).
import { useEffect, useState } from 'react';
import { signOut, useAuth } from '../state/auth.ts';
import { CopyButton } from '../components/ui.tsx';
import { hasWallet, walletAccount, walletSign } from '../identity/wallet.ts';

interface Own {
  did: string;
  address: string;
  linked: string | undefined;
}

async function loadOwn(): Promise<Own | undefined> {
  const k = await import('../identity/keys.ts');
  const id = await k.loadIdentity();
  if (!id) return undefined;
  const b = await k.loadWalletBinding(id.did);
  return { did: id.did, address: id.address, linked: b && b.address.toLowerCase() !== id.address.toLowerCase() ? b.address : undefined };
}

async function linkWallet(): Promise<void> {
  const k = await import('../identity/keys.ts');
  const id = await k.loadOrCreateIdentity();
  const address = await walletAccount();
  const signature = await walletSign(k.bindingMessage(id.did, address), address);
  await k.saveWalletBinding(k.walletBinding(id, address, signature));
}

async function unlinkWallet(): Promise<void> {
  const k = await import('../identity/keys.ts');
  await k.saveWalletBinding(undefined);
}

function Row({ label, value, testId }: { label: string; value: string | null | undefined; testId: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono small wrap row gap" data-testid={testId}>
        {value ? (
          <>
            <span>{value}</span>
            <CopyButton text={value} label="Copy" />
          </>
        ) : (
          '—'
        )}
      </dd>
    </>
  );
}

export function IdentitySection() {
  const auth = useAuth();
  const [own, setOwn] = useState<Own>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    loadOwn()
      .then((o) => live && setOwn(o))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [version]);

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      setVersion((v) => v + 1);
    } catch (err) {
      const e = err as { code?: unknown; message?: string };
      setError(e.code === 4001 ? 'The wallet request was rejected.' : (e.message ?? String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" data-testid="identity-section">
      <h2>Identity</h2>
      <dl className="kv">
        <dt>Signed in as</dt>
        <dd data-testid="identity-role">{auth.signedIn ? (auth.role ?? 'signed in') : auth.status === 'open' ? 'this node has no sign-in' : 'not signed in'}</dd>
        <Row label="DID" value={auth.did} testId="identity-did" />
        <Row label="Ethereum account" value={auth.address} testId="identity-address" />
        {own && own.did !== auth.did && <Row label="This browser's key" value={own.did} testId="identity-own-did" />}
        {own && own.address.toLowerCase() !== auth.address?.toLowerCase() && <Row label="Its built-in account" value={own.address} testId="identity-own-address" />}
        <dt>Linked wallet</dt>
        <dd className="mono small wrap" data-testid="identity-linked">
          {own?.linked ?? '—'}
        </dd>
      </dl>
      <p className="muted small">
        This browser's key lives in its IndexedDB and is the chat's identity too (export it from Chat). Linking an Ethereum wallet signs a binding of this did to the wallet's account; the next sign-in sends it, so the node knows both as
        you.
      </p>
      <div className="row gap wrap-row">
        {hasWallet() && (
          <button type="button" className="btn" disabled={busy} onClick={() => void act(linkWallet)} data-testid="link-wallet">
            {busy ? 'Waiting for the wallet…' : own?.linked ? 'Link another wallet' : 'Link external wallet'}
          </button>
        )}
        {own?.linked && (
          <button type="button" className="btn btn-ghost" disabled={busy} onClick={() => void act(unlinkWallet)} data-testid="unlink-wallet">
            Forget linked wallet
          </button>
        )}
        {auth.signedIn && (
          <button type="button" className="btn" disabled={!!auth.busy} onClick={() => void signOut()} data-testid="settings-sign-out">
            Sign out
          </button>
        )}
      </div>
      {!hasWallet() && <p className="muted small">No Ethereum wallet (window.ethereum) in this browser to link.</p>}
      {error && <div className="alert alert-error">{error}</div>}
    </div>
  );
}
