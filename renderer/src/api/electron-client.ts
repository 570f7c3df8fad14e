// The desktop transport: the preload's bridge over IPC, files through the yoso-file: protocol.
import type { ApiClient, CommandName, CommandInput, CommandOutput, EventName, EventPayload } from '../../../main/contract/api.ts';
import { FILE_PROTOCOL, type BridgeResult, type YosoBridge } from '../../../main/contract/bridge.ts';
import { ApiClientError } from './errors.ts';
import { encodeRelativePath, parseEvent, parseOutput } from './validate.ts';

export class ElectronClient implements ApiClient {
  readonly kind = 'electron' as const;
  readonly #bridge: YosoBridge;

  constructor(bridge: YosoBridge) {
    this.#bridge = bridge;
  }

  async call<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    return parseOutput(name, unwrap(name, await this.#bridge.call(name, input ?? {})));
  }

  on<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void {
    return this.#bridge.on(name, (raw) => {
      const payload = parseEvent(name, raw);
      if (payload !== null) handler(payload);
    });
  }

  fileUrl(relativePath: string): string {
    return `${FILE_PROTOCOL}://data/${encodeRelativePath(relativePath)}`;
  }

  async showItemInFolder(relativePath: string): Promise<void> {
    unwrap('showItemInFolder', await this.#bridge.showItemInFolder(relativePath));
  }
}

function unwrap(name: string, result: BridgeResult): unknown {
  if (result.ok) return result.value;
  throw ApiClientError.from(result.error, `${name} failed`);
}
