/** Small statistics helpers (nearest-rank percentiles; no interpolation, so values were really observed). */
export interface Summary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The middle value (the upper of the two middles for an even count), as the A/B scripts pair their batches. */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

export function summarize(values: number[]): Summary {
  const sorted = Float64Array.from(values).sort();
  const sum = values.reduce((total, v) => total + v, 0);
  return {
    count: values.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : null,
    mean: values.length ? sum / values.length : null,
  };
}

/** Wall-clock epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
