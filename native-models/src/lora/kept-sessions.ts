// Keeps opened sessions (a patched UNet per base model, LoRA and scale) under a memory budget and
// releases the least recently used first, so switching back to a kept combination costs nothing.
export interface Releasable {
  release(): Promise<void>;
}

interface Entry<T> {
  value: T;
  bytes: number;
}

export class KeptSessions<T extends Releasable> {
  private readonly entries = new Map<string, Entry<T>>(); // Map order = least recently used first
  private readonly pending = new Map<string, Promise<Entry<T>>>();

  constructor(readonly budgetBytes: number) {}

  get keptBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.bytes;
    return sum;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Returns the kept value for `key`, or opens it and keeps it. The entry just returned is never
   * evicted by its own opening, even if alone it exceeds the budget.
   */
  async acquire(key: string, open: () => Promise<{ value: T; bytes: number }>): Promise<{ value: T; reused: boolean }> {
    const kept = this.entries.get(key);
    if (kept) {
      this.entries.delete(key);
      this.entries.set(key, kept);
      return { value: kept.value, reused: true };
    }
    let opening = this.pending.get(key);
    if (!opening) {
      opening = open();
      this.pending.set(key, opening);
    }
    let entry: Entry<T>;
    try {
      entry = await opening;
    } finally {
      this.pending.delete(key);
    }
    if (!this.entries.has(key)) {
      this.entries.set(key, entry);
      await this.evict(key);
    }
    return { value: entry.value, reused: false };
  }

  private async evict(keep: string): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (this.keptBytes <= this.budgetBytes) return;
      if (key === keep) continue;
      this.entries.delete(key);
      await entry.value.release();
    }
  }

  async releaseAll(): Promise<void> {
    const values = [...this.entries.values()];
    this.entries.clear();
    for (const e of values) await e.value.release();
  }
}
