// The Info tab's Ownership (issue 13): who registered this torrent in the chain's content registry
// — the account, its did and the metadata block's CID, the block it was registered in, and whether
// the metadata block (when this node holds it) names this very infohash — and, for the node's
// owner, Register (for the node's account). A node without a chain says so.
import { useCallback, useEffect, useId, useState } from 'react';
import { chainApi, chainAvailability, type Registration } from '../../api/chain-api.ts';
import { useAuth } from '../../state/auth.ts';
import '../chain.css';

function matchText(m: boolean | null | undefined): string {
  return m === true ? 'matches' : m === false ? 'does not match' : 'unknown';
}

export function OwnershipSection({ infoHash, hasMetadata }: { infoHash: string; hasMetadata: boolean }) {
  const auth = useAuth();
  const owner = auth.status === 'open' || auth.role === 'owner';
  const headingId = useId();
  const reasonId = useId();
  const [reg, setReg] = useState<Registration>();
  const [unavailable, setUnavailable] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [registerError, setRegisterError] = useState<string>();
  const [tx, setTx] = useState<string | null>();

  const load = useCallback(async () => {
    try {
      const chain = await chainAvailability();
      if (!chain.running) {
        setUnavailable(chain.message);
        return;
      }
      setUnavailable(undefined);
      setReg(await chainApi.registration(infoHash));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [infoHash]);

  useEffect(() => {
    if (hasMetadata) void load();
  }, [hasMetadata, load]);

  const register = async () => {
    setBusy(true);
    setRegisterError(undefined);
    try {
      const r = await chainApi.register(infoHash);
      setTx(r.registered ? (r.tx ?? null) : undefined);
      // The register answer has no did or match: read the registration as everyone sees it.
      await load();
    } catch (err) {
      setRegisterError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="ownership" aria-labelledby={headingId} data-testid="detail-ownership">
      <h3 className="small-heading" id={headingId}>
        Ownership
      </h3>
      {!hasMetadata ? (
        <p className="muted small">Who owns a torrent shows once its metadata is here.</p>
      ) : unavailable ? (
        <p className="muted small" data-testid="detail-owner-unavailable">
          {unavailable}
        </p>
      ) : error ? (
        <div className="alert alert-error" data-testid="detail-owner-error">
          {error}
        </div>
      ) : !reg ? (
        <p className="muted small">Reading the registry…</p>
      ) : !reg.registered ? (
        <div className="ownership-row">
          <span data-testid="detail-owner-status">Not registered</span>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => void register()}
            disabled={!owner || busy}
            aria-describedby={owner ? undefined : reasonId}
            title="Register this torrent in the content registry for this node's account"
            data-testid="detail-register"
          >
            {busy ? 'Registering…' : 'Register'}
          </button>
          {!owner && (
            <span className="muted small" id={reasonId}>
              Only the node's owner can register torrents.
            </span>
          )}
        </div>
      ) : (
        <dl className="kv">
          <dt>Owner</dt>
          <dd>
            <span className="mono small wrap" data-testid="detail-owner">
              {reg.owner}
            </span>
            {reg.ours && (
              <span className="badge ownership-ours" data-testid="detail-owner-ours">
                this node
              </span>
            )}
          </dd>
          {reg.did && (
            <>
              <dt>Owner's did</dt>
              <dd className="mono small wrap" data-testid="detail-owner-did">
                {reg.did}
              </dd>
            </>
          )}
          <dt>Metadata</dt>
          <dd className="mono small wrap" data-testid="detail-owner-cid">
            {reg.metadataCid}
          </dd>
          <dt>Block</dt>
          <dd className="num" data-testid="detail-owner-block">
            {reg.block}
          </dd>
          <dt>Content</dt>
          <dd data-testid="detail-owner-match" data-matches={String(reg.matches ?? null)} title="Whether the registered metadata block names this very infohash (unknown: the block is not held here)">
            {matchText(reg.matches)}
          </dd>
          {tx && (
            <>
              <dt>Transaction</dt>
              <dd className="mono small wrap" data-testid="detail-register-tx">
                {tx}
              </dd>
            </>
          )}
        </dl>
      )}
      {registerError && (
        <div className="alert alert-error" role="alert" data-testid="detail-register-error">
          {registerError}
        </div>
      )}
    </section>
  );
}
