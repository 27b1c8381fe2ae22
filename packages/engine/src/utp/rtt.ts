// A uTP connection's round-trip estimate and retransmission timeout (BEP 29: TCP's smoothed RTT
// and variance, RFC 6298), doubled on each timeout up to a minute.

const INITIAL_RTO_MS = 1000;
const MIN_RTO_MS = 500;
const MAX_RTO_MS = 60_000;

export class RttEstimator {
  /** Smoothed round trip, ms (0 until the first sample). */
  srtt = 0;
  private rttVar = 800;
  /** The retransmission timeout now, ms. */
  rto = INITIAL_RTO_MS;

  /** A round trip measured on a packet sent once (Karn). */
  sample(ms: number): void {
    if (this.srtt === 0) {
      this.srtt = ms;
      this.rttVar = ms / 2;
    } else {
      this.rttVar += (Math.abs(this.srtt - ms) - this.rttVar) / 4;
      this.srtt += (ms - this.srtt) / 8;
    }
    this.reset();
  }

  /** Progress: the timeout goes back to what the estimate says (ends a backoff). */
  reset(): void {
    this.rto = this.srtt === 0 ? INITIAL_RTO_MS : Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.srtt + 4 * this.rttVar));
  }

  /** A timeout: wait twice as long next time. */
  backoff(): void {
    this.rto = Math.min(MAX_RTO_MS, this.rto * 2);
  }
}
