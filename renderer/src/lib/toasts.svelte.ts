// Short messages at the bottom of the window, some with one action (Undo).
export interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error';
  action?: { label: string; run: () => void | Promise<void> };
}

export class Toasts {
  list = $state<Toast[]>([]);
  #next = 1;
  readonly #setTimer: (fn: () => void, ms: number) => unknown;

  constructor(setTimer: (fn: () => void, ms: number) => unknown = (fn, ms) => setTimeout(fn, ms)) {
    this.#setTimer = setTimer;
  }

  show(message: string, options: { kind?: Toast['kind']; action?: Toast['action']; ms?: number } = {}): number {
    const id = this.#next++;
    const toast: Toast = { id, message, kind: options.kind ?? 'info' };
    if (options.action) toast.action = options.action;
    this.list = [...this.list, toast];
    this.#setTimer(() => this.dismiss(id), options.ms ?? (options.action ? 10_000 : 5_000));
    return id;
  }

  error(message: string): number {
    return this.show(message, { kind: 'error', ms: 8_000 });
  }

  dismiss(id: number): void {
    this.list = this.list.filter((t) => t.id !== id);
  }
}
