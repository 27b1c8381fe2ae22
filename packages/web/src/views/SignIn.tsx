// The screens before the app: first run (claim this node), sign-in (this browser's key or an
// Ethereum wallet), and the waits and failures around reaching the node at all.
import { useEffect, useState, type ReactNode } from 'react';
import { claimNode, refreshAuth, signInWithKey, signInWithWallet, useAuth, whoLabel } from '../state/auth.ts';
import { hasWallet } from '../identity/wallet.ts';
import { nextTheme, setTheme, useTheme } from '../page/theme.ts';
import { IconAuto, IconMoon, IconSun } from '../components/icons.tsx';

/** This browser's did (created on first use, kept in IndexedDB), or why it is unavailable. */
function useOwnDid(): { did: string | undefined; error: string | undefined } {
  const [out, setOut] = useState<{ did: string | undefined; error: string | undefined }>({ did: undefined, error: undefined });
  useEffect(() => {
    let live = true;
    import('../identity/keys.ts')
      .then((k) => k.loadOrCreateIdentity())
      .then((id) => live && setOut({ did: id.did, error: undefined }))
      .catch((err: Error) => live && setOut({ did: undefined, error: err.message }));
    return () => {
      live = false;
    };
  }, []);
  return out;
}

export function Brand() {
  return (
    <span className="brand">
      <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
        <path d="M6 6h20l-6 8h6L10 28l4-10H6z" fill="var(--accent)" />
      </svg>
      <span>Cascade</span>
    </span>
  );
}

function ThemeButton() {
  const { choice, effective } = useTheme();
  const Icon = choice === 'auto' ? IconAuto : effective === 'dark' ? IconMoon : IconSun;
  return (
    <button type="button" className="icon-btn" onClick={() => setTheme(nextTheme(choice))} title={`Theme: ${choice === 'auto' ? `system (${effective})` : choice}`} aria-label="Toggle dark mode" data-testid="theme-toggle">
      <Icon />
    </button>
  );
}

function AuthLayout({ testId, children }: { testId: string; children: ReactNode }) {
  return (
    <div className="auth-page">
      <header className="auth-head">
        <Brand />
        <ThemeButton />
      </header>
      <main className="auth-main">
        <section className="card auth-card" data-testid={testId}>
          {children}
        </section>
      </main>
    </div>
  );
}

function ErrorLine() {
  const auth = useAuth();
  return auth.error ? (
    <div className="alert alert-error" role="alert" data-testid="auth-error">
      {auth.error}
    </div>
  ) : null;
}

function KeyButton({ did, primary, label }: { did: string | undefined; primary: boolean; label: string }) {
  const auth = useAuth();
  return (
    <button type="button" className={`btn auth-btn${primary ? ' btn-primary' : ''}`} disabled={!!auth.busy} onClick={() => void signInWithKey()} data-testid="sign-in-key">
      <span>{auth.busy === 'key' ? 'Signing in…' : label}</span>
      {did && <span className="auth-btn-sub mono">{whoLabel({ did, address: null })}</span>}
    </button>
  );
}

function WalletButton() {
  const auth = useAuth();
  if (!hasWallet()) return null;
  return (
    <button type="button" className="btn auth-btn" disabled={!!auth.busy} onClick={() => void signInWithWallet()} data-testid="sign-in-wallet">
      <span>{auth.busy === 'wallet' ? 'Waiting for the wallet…' : 'Sign in with Ethereum wallet'}</span>
      <span className="auth-btn-sub">MetaMask or another EIP-1193 wallet</span>
    </button>
  );
}

export function SignInScreen() {
  const own = useOwnDid();
  return (
    <AuthLayout testId="sign-in">
      <h1>Sign in to this Cascade node</h1>
      <p className="muted">
        The node knows people by a key, not a password. This browser has its own key (the same one its chat uses); an Ethereum wallet works too. The node's owner decides who may manage its torrents —
        everyone else can use what runs in the browser and the chat.
      </p>
      <div className="auth-actions">
        <KeyButton did={own.did} primary label="Sign in with this browser's key" />
        <WalletButton />
      </div>
      {own.error && <div className="alert alert-error">This browser's key is unavailable: {own.error}</div>}
      <ErrorLine />
    </AuthLayout>
  );
}

/** The claim code field (what `cascade serve` printed; `cascade claim-code` shows it again). */
export function ClaimCodeField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <label className="claim-code-field">
      <span>Claim code</span>
      <input
        className="input mono"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="XXXX-XXXX-XXXX-XXXX"
        autoComplete="one-time-code"
        spellCheck={false}
        aria-describedby="claim-code-help"
        data-testid="claim-code"
      />
      <span id="claim-code-help" className="muted small">
        <code>cascade serve</code> printed it on the node's console; <code>cascade claim-code</code> on the node's machine shows it again.
      </span>
    </label>
  );
}

export function FirstRunScreen() {
  const auth = useAuth();
  const own = useOwnDid();
  const [code, setCode] = useState('');
  return (
    <AuthLayout testId="first-run">
      <h1>Welcome to your Cascade node</h1>
      <p>
        This node has no owner yet. Claiming it makes <strong>this browser</strong> its owner: its key ({own.did ? <span className="mono">{whoLabel({ did: own.did, address: null })}</span> : 'created now'}) signs
        in, and from then on only you and the members you add can see and manage the node's torrents.
      </p>
      <p className="muted small">Only whoever holds the node's machine has its one-time claim code. Keep this browser's key safe: back it up with Chat → Export…</p>
      <ClaimCodeField value={code} onChange={setCode} />
      <div className="auth-actions">
        <button type="button" className="btn btn-primary auth-btn" disabled={!!auth.busy} onClick={() => void claimNode(code)} data-testid="claim-node">
          <span>{auth.busy === 'claim' ? 'Claiming…' : 'Claim this node'}</span>
          <span className="auth-btn-sub">Sign in with this browser's key and become the owner</span>
        </button>
        <KeyButton did={own.did} primary={false} label="Sign in without claiming" />
        <WalletButton />
      </div>
      {own.error && <div className="alert alert-error">This browser's key is unavailable: {own.error}</div>}
      <ErrorLine />
    </AuthLayout>
  );
}

export function LoadingScreen() {
  return (
    <AuthLayout testId="auth-loading">
      <p className="muted">Connecting to the node…</p>
    </AuthLayout>
  );
}

export function UnreachableScreen() {
  const auth = useAuth();
  return (
    <AuthLayout testId="auth-unreachable">
      <h1>Cannot reach the node</h1>
      <div className="alert alert-error">{auth.problem ?? 'No answer.'}</div>
      <p className="muted">Trying again every few seconds.</p>
      <button type="button" className="btn" onClick={() => void refreshAuth()}>
        Try now
      </button>
    </AuthLayout>
  );
}
