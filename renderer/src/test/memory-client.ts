// A small in-memory ApiClient for the stores' unit tests: handlers are plain functions the test
// supplies, events are emitted by the test, and every answer is checked against the contract
// exactly as a real transport does (parseOutput), so a test cannot pass on a malformed record.
import type { ApiClient, CommandInput, CommandName, CommandOutput, EventName, EventPayload } from '../../../main/contract/api.ts';
import { commands } from '../../../main/contract/api.ts';
import { ApiClientError } from '../api/errors.ts';
import { parseOutput } from '../api/validate.ts';

type Handler = (input: never) => unknown;

export class MemoryClient implements ApiClient {
  readonly kind = 'http' as const;
  readonly calls: Array<{ name: CommandName; input: unknown }> = [];
  readonly #handlers = new Map<CommandName, Handler>();
  readonly #listeners = new Map<EventName, Set<(p: unknown) => void>>();

  handle<K extends CommandName>(name: K, handler: (input: CommandOutputInput<K>) => unknown): this {
    this.#handlers.set(name, handler as Handler);
    return this;
  }

  async call<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    const parsed = commands[name].input.safeParse(input ?? {});
    if (!parsed.success) throw new ApiClientError({ code: 'invalid_input', message: `${name}: ${parsed.error.message}` });
    this.calls.push({ name, input: parsed.data });
    const handler = this.#handlers.get(name);
    if (!handler) throw new ApiClientError({ code: 'unavailable', message: `${name} is not handled in this test` });
    return parseOutput(name, await (handler as (i: unknown) => unknown)(parsed.data));
  }

  on<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void {
    const set = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, set);
    const listener = handler as (p: unknown) => void;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners.get(name) ?? []) listener(payload);
  }

  fileUrl(relativePath: string): string {
    return `/files/${relativePath}`;
  }

  callsOf(name: CommandName): unknown[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }
}

type CommandOutputInput<K extends CommandName> = import('zod').output<(typeof commands)[K]['input']>;
