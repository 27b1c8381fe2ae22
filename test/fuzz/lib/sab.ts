// The shared memory a worker mirrors its current input into, so the runner can still read the
// input after it has killed a worker that an input hung.

/** Header: Int32 slots, read by the runner even after it killed the worker. */
export const HEADER_BYTES = 32;
/** `beat` moves with every run, including the re-runs that shrink a finding. */
export const SLOT = { inputs: 0, length: 1, truncated: 2, accepted: 3, rejected: 4, findings: 5, beat: 6 } as const;
export const MAX_SAB_INPUT = 8 * 1024 * 1024;

export interface WorkerInput {
  target: string;
  seed: number;
  inputs: number;
  deadline: number;
  sab: SharedArrayBuffer;
}
