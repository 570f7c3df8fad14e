// Speed and time left from a sliding window of byte counts, so one stalled second or one burst
// does not make the estimate jump.
export class SpeedMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records the running total of bytes fetched over the network in this run. */
  add(totalBytes: number, now = Date.now()): void {
    this.samples.push({ t: now, bytes: totalBytes });
    while (this.samples.length > 2 && now - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  bytesPerSecond(now = Date.now()): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t === first.t) return 0;
    const elapsed = Math.max(now, last.t) - first.t;
    return elapsed > 0 ? ((last.bytes - first.bytes) * 1000) / elapsed : 0;
  }

  reset(): void {
    this.samples = [];
  }
}

export function etaSeconds(remainingBytes: number | null, bytesPerSecond: number): number | null {
  if (remainingBytes === null || bytesPerSecond <= 0) return null;
  return Math.ceil(remainingBytes / bytesPerSecond);
}
