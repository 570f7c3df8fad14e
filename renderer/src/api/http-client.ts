// The browser transport: POST /api/<command> with a JSON body, server-sent events at /api/events,
// files at /files/<path>. Used when the page is served by `npm run serve`.
import type { ApiClient, CommandName, CommandInput, CommandOutput, EventName, EventPayload } from '../../../main/contract/api.ts';
import { ApiClientError } from './errors.ts';
import { encodeRelativePath, parseEvent, parseOutput } from './validate.ts';

type Listener = (payload: unknown) => void;

export interface HttpClientOptions {
  /** Origin + path prefix of the server, '' for the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  EventSource?: typeof EventSource;
}

export class HttpClient implements ApiClient {
  readonly kind = 'http' as const;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #EventSource: typeof EventSource | undefined;
  readonly #listeners = new Map<EventName, Set<Listener>>();
  #source: EventSource | null = null;

  constructor(options: HttpClientOptions = {}) {
    this.#base = (options.baseUrl ?? '').replace(/\/$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#EventSource = options.EventSource ?? globalThis.EventSource;
  }

  async call<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input ?? {}),
      });
    } catch (error) {
      throw new ApiClientError({
        code: 'unavailable',
        message: `The studio server cannot be reached (${(error as Error).message}). Is \`npm run serve\` still running?`,
      });
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) throw ApiClientError.from(body, `${name} failed with HTTP ${response.status}`);
    return parseOutput(name, body);
  }

  on<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
      this.#source?.addEventListener(name, this.#dispatch);
    }
    const listener = handler as Listener;
    set.add(listener);
    this.#connect();
    return () => set.delete(listener);
  }

  fileUrl(relativePath: string): string {
    return `${this.#base}/files/${encodeRelativePath(relativePath)}`;
  }

  close(): void {
    this.#source?.close();
    this.#source = null;
  }

  #connect(): void {
    if (this.#source || !this.#EventSource) return;
    // EventSource reconnects by itself after a dropped connection.
    this.#source = new this.#EventSource(`${this.#base}/api/events`);
    for (const name of this.#listeners.keys()) this.#source.addEventListener(name, this.#dispatch);
  }

  readonly #dispatch = (event: Event): void => {
    const message = event as MessageEvent<string>;
    const name = message.type as EventName;
    let raw: unknown;
    try {
      raw = JSON.parse(message.data);
    } catch {
      console.warn(`Ignored a ${name} event that is not JSON`);
      return;
    }
    const payload = parseEvent(name, raw);
    if (payload === null) return;
    for (const listener of this.#listeners.get(name) ?? []) listener(payload);
  };
}
