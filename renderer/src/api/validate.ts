// Outputs and events are validated where they enter the renderer, whatever the transport.
import {
  commands,
  events,
  type CommandName,
  type CommandOutput,
  type EventName,
  type EventPayload,
} from '../../../main/contract/api.ts';
import { ApiClientError } from './errors.ts';

export function parseOutput<K extends CommandName>(name: K, raw: unknown): CommandOutput<K> {
  const result = commands[name].output.safeParse(raw);
  if (!result.success) {
    throw new ApiClientError({
      code: 'internal',
      message: `The answer to ${name} does not match the contract`,
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return result.data as CommandOutput<K>;
}

/** Returns null (and logs) for a malformed event: one bad event must not break the page. */
export function parseEvent<E extends EventName>(name: E, raw: unknown): EventPayload<E> | null {
  const result = events[name].safeParse(raw);
  if (!result.success) {
    console.warn(`Ignored a malformed ${name} event`, result.error.issues);
    return null;
  }
  return result.data as EventPayload<E>;
}

/** Data-folder paths become URL paths segment by segment, so names with spaces or # stay intact. */
export function encodeRelativePath(relativePath: string): string {
  return relativePath
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .map(encodeURIComponent)
    .join('/');
}
