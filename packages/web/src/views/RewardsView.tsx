// Rewards (issue 13): what this node earned seeding — bytes in the receipts peers signed for what
// they downloaded, how much of it is claimed and what is pending —, its SEED balance and account,
// and Claim, which submits the receipts held to the reward pool. A node without a chain (or one
// still starting it) says so. Re-read every few seconds while open, and at once after a claim.
import { useCallback, useEffect, useState } from 'react';
import { chainApi, chainAvailability, type ClaimResult, type Rewards } from '../api/chain-api.ts';
import { formatBytes, units18 } from '../format/format.ts';
import { Stat } from '../components/ui.tsx';
import './chain.css';

const POLL_MS = 5000;
const MiB = 1024n * 1024n;

/** A byte count as a human size, the exact count in its tooltip and data-bytes. */
function Bytes({ n, testId }: { n: number; testId: string }) {
  return (
    <span data-testid={testId} data-bytes={n} title={`${n.toLocaleString('en')} bytes`}>
      {formatBytes(n)}
    </span>
  );
}

function claimText(r: ClaimResult): string {
  if (!r.tx || r.claimedBytes === 0) return 'Nothing new to claim';
  return `Claimed ${formatBytes(r.claimedBytes)}`;
}

export function RewardsView() {
  const [rewards, setRewards] = useState<Rewards>();
  const [unavailable, setUnavailable] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [claimed, setClaimed] = useState<ClaimResult>();

  const load = useCallback(async () => {
    try {
      const chain = await chainAvailability();
      if (!chain.running) {
        setUnavailable(chain.message);
        setRewards(undefined);
      } else {
        setRewards(await chainApi.rewards());
        setUnavailable(undefined);
      }
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const claim = async () => {
    setBusy(true);
    setError(undefined);
    setClaimed(undefined);
    try {
      setClaimed(await chainApi.claim());
      await load();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="rewards-view" aria-label="Rewards" data-testid="rewards-page">
      <div className="page-head">
        <div>
          <h1>Rewards</h1>
          <p className="muted">Peers sign a receipt for what they download from this node; a claim turns the receipts into SEED tokens.</p>
        </div>
        {rewards && (
          <div className="head-actions">
            <button type="button" className="btn btn-primary" onClick={() => void claim()} disabled={busy} data-testid="rewards-claim">
              {busy ? 'Claiming…' : 'Claim'}
            </button>
          </div>
        )}
      </div>
      {unavailable && (
        <div className="alert alert-warn" role="status" data-testid="rewards-unavailable">
          {unavailable}
        </div>
      )}
      {error && (
        <div className="alert alert-error" role="alert" data-testid="rewards-error">
          {error}
        </div>
      )}
      {claimed && (
        <div className="alert alert-ok" role="status" data-testid="rewards-claim-result">
          {claimText(claimed)}
          {claimed.tx && (
            <>
              {' '}· transaction <span className="mono wrap">{claimed.tx}</span>
            </>
          )}
          {claimed.skipped.length > 0 && (
            <ul className="small rewards-skipped">
              {claimed.skipped.map((s) => (
                <li key={`${s.infoHash}|${s.downloader}`}>
                  <span className="mono">{s.infoHash.slice(0, 12)}…</span> from <span className="mono">{s.downloader}</span>: {s.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {!rewards && !unavailable && !error && <div className="muted pad">Loading…</div>}
      {rewards && (
        <div className="cards">
          <div className="card">
            <h2>Seeding receipts</h2>
            <div className="stat-grid">
              <Stat label="Earned" value={<Bytes n={rewards.earnedBytes} testId="rewards-earned" />} />
              <Stat label="Claimed" value={<Bytes n={rewards.claimedBytes} testId="rewards-claimed" />} />
              <Stat label="Pending" value={<Bytes n={rewards.pendingBytes} testId="rewards-pending" />} />
              <Stat label="Receipts" value={String(rewards.receipts)} testId="rewards-receipts" />
            </div>
          </div>
          <div className="card">
            <h2>Balance</h2>
            <div className="stat-grid">
              <Stat label="SEED" value={<span title={`${rewards.balance} base units`}>{units18(rewards.balance)}</span>} testId="rewards-balance" />
              <Stat label="Per MiB" value={`${units18((BigInt(rewards.rewardPerByte) * MiB).toString())} SEED`} testId="rewards-rate" />
            </div>
            <dl className="kv rewards-account">
              <dt>Account</dt>
              <dd className="mono small wrap" data-testid="rewards-account">
                {rewards.account}
              </dd>
            </dl>
          </div>
        </div>
      )}
    </section>
  );
}
