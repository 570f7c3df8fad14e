// The history gallery: a query (search, favourites, base model), pages fetched by cursor as the
// grid scrolls, live additions, favourites, delete with undo.
import type { ApiClient, HistoryItem, HistoryQuery } from '../../../main/contract/api.ts';

export interface GalleryOptions {
  pageSize?: number;
  /** Delay between the last keystroke in the search box and the query. */
  searchDelayMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface PendingUndo {
  token: string;
  count: number;
}

export class GalleryStore {
  items = $state<HistoryItem[]>([]);
  total = $state(0);
  loading = $state(false);
  search = $state('');
  favouritesOnly = $state(false);
  baseModelId = $state<string | null>(null);
  /** The last delete, undoable until the next one. */
  pendingUndo = $state<PendingUndo | null>(null);
  #nextCursor = $state<string | null>(null);
  hasMore = $derived(this.#nextCursor !== null);

  #generation = 0;
  #searchTimer: unknown = null;
  readonly #api: ApiClient;
  readonly #options: Required<GalleryOptions>;
  readonly #stops: Array<() => void>;

  constructor(api: ApiClient, options: GalleryOptions = {}) {
    this.#api = api;
    this.#options = {
      pageSize: options.pageSize ?? 200,
      searchDelayMs: options.searchDelayMs ?? 200,
      setTimer: options.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    };
    this.#stops = [
      api.on('history.added', (item) => this.#added(item)),
      api.on('history.changed', ({ ids }) => void this.#changed(ids)),
    ];
  }

  get query(): Omit<HistoryQuery, 'cursor' | 'limit'> {
    const query: Omit<HistoryQuery, 'cursor' | 'limit'> = {};
    if (this.search.trim()) query.search = this.search.trim();
    if (this.favouritesOnly) query.favouritesOnly = true;
    if (this.baseModelId) query.baseModelId = this.baseModelId;
    return query;
  }

  /** Reloads the first page; an answer to an older query that arrives late is dropped. */
  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const page = await this.#api.call('history.list', { ...this.query, limit: this.#options.pageSize });
      if (generation !== this.#generation) return;
      this.items = page.items;
      this.total = page.total;
      this.#nextCursor = page.nextCursor;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (this.loading || this.#nextCursor === null) return;
    const generation = this.#generation;
    this.loading = true;
    try {
      const page = await this.#api.call('history.list', {
        ...this.query,
        cursor: this.#nextCursor,
        limit: this.#options.pageSize,
      });
      if (generation !== this.#generation) return;
      const known = new Set(this.items.map((i) => i.id));
      this.items = [...this.items, ...page.items.filter((i) => !known.has(i.id))];
      this.total = page.total;
      this.#nextCursor = page.nextCursor;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** Typing in the search box: one query once the typing pauses. */
  setSearch(text: string): void {
    this.search = text;
    if (this.#searchTimer !== null) this.#options.clearTimer(this.#searchTimer);
    this.#searchTimer = this.#options.setTimer(() => {
      this.#searchTimer = null;
      void this.refresh();
    }, this.#options.searchDelayMs);
  }

  setFavouritesOnly(on: boolean): Promise<void> {
    this.favouritesOnly = on;
    return this.refresh();
  }

  setBaseModel(id: string | null): Promise<void> {
    this.baseModelId = id;
    return this.refresh();
  }

  async toggleFavourite(item: HistoryItem): Promise<HistoryItem> {
    const updated = await this.#api.call('history.setFavourite', { id: item.id, favourite: !item.favourite });
    this.#replace(updated);
    return updated;
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { undoToken } = await this.#api.call('history.delete', { ids });
    const gone = new Set(ids);
    const before = this.items.length;
    this.items = this.items.filter((i) => !gone.has(i.id));
    this.total = Math.max(0, this.total - (before - this.items.length));
    this.pendingUndo = { token: undoToken, count: ids.length };
  }

  async undoDelete(): Promise<number> {
    const pending = this.pendingUndo;
    if (!pending) return 0;
    const { restored } = await this.#api.call('history.undoDelete', { undoToken: pending.token });
    this.pendingUndo = null;
    await this.refresh();
    return restored;
  }

  dismissUndo(): void {
    this.pendingUndo = null;
  }

  dispose(): void {
    for (const stop of this.#stops) stop();
  }

  #added(item: HistoryItem): void {
    if (this.items.some((i) => i.id === item.id)) return;
    if (!this.#matches(item)) return;
    this.items = [item, ...this.items];
    this.total += 1;
  }

  /** The client-side twin of the server's filter, for live additions only. */
  #matches(item: HistoryItem): boolean {
    if (this.favouritesOnly && !item.favourite) return false;
    if (this.baseModelId && item.request.baseModelId !== this.baseModelId) return false;
    const search = this.search.trim().toLowerCase();
    if (!search) return true;
    const haystack = `${item.request.prompt} ${item.request.negativePrompt} ${item.seed} ${item.baseModelName} ${item.tags.join(' ')}`.toLowerCase();
    return search.split(/\s+/).every((word) => haystack.includes(word));
  }

  async #changed(ids: string[]): Promise<void> {
    for (const id of ids) {
      if (!this.items.some((i) => i.id === id)) continue;
      try {
        this.#replace(await this.#api.call('history.get', { id }));
      } catch {
        this.items = this.items.filter((i) => i.id !== id);
      }
    }
  }

  #replace(item: HistoryItem): void {
    const index = this.items.findIndex((i) => i.id === item.id);
    if (index !== -1) this.items[index] = item;
  }
}
