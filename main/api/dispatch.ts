// The transport boundary shared by HTTP and Electron IPC: look the command up, validate its input
// with the contract's schema, run the handler, and return either the output or an ApiError.
import { commands, type ApiError, type CommandName, type Handlers } from '../contract/api.ts';
import { ApiFailure, fromZodError, toApiError } from './errors.ts';

export type DispatchResult = { ok: true; output: unknown } | { ok: false; error: ApiError };

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

export async function dispatch(handlers: Handlers, name: string, rawInput: unknown): Promise<DispatchResult> {
  try {
    if (!isCommandName(name)) throw new ApiFailure('not_found', `unknown command "${name}"`);
    const parsed = commands[name].input.safeParse(rawInput ?? {});
    if (!parsed.success) throw fromZodError(parsed.error, `input for ${name}`);
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    return { ok: true, output: await handler(parsed.data) };
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError.code === 'internal') console.error(`command ${name} failed:`, error);
    return { ok: false, error: apiError };
  }
}
