// history.* commands: the history library behind the contract.
import type { Handlers } from '../contract/api.ts';
import type { HistoryStore } from '../history/index.ts';
import { readPngParameters } from '../png-metadata/index.ts';
import type { EventBus } from './events.ts';
import { ApiFailure } from './errors.ts';

type HistoryCommands =
  | 'history.list'
  | 'history.get'
  | 'history.setFavourite'
  | 'history.delete'
  | 'history.undoDelete'
  | 'history.reuse'
  | 'history.readPngParameters';

export function historyHandlers(history: HistoryStore, events: EventBus): Pick<Handlers, HistoryCommands> {
  return {
    'history.list': async (query) => history.list(query),
    'history.get': async ({ id }) => {
      const item = history.get(id);
      if (!item) throw new ApiFailure('not_found', `no history item with id ${id}`);
      return item;
    },
    'history.setFavourite': async ({ id, favourite }) => {
      const item = history.setFavourite(id, favourite);
      events.emit('history.changed', { ids: [id] });
      return item;
    },
    'history.delete': async ({ ids }) => {
      const receipt = history.delete(ids);
      events.emit('history.changed', { ids });
      return { undoToken: receipt.undoToken };
    },
    'history.undoDelete': async ({ undoToken }) => {
      const { restored, ids } = history.undoDelete(undoToken);
      events.emit('history.changed', { ids });
      return { restored };
    },
    'history.reuse': async ({ id }) => history.reuse(id),
    'history.readPngParameters': async ({ pngBase64 }) => {
      const parsed = readPngParameters(new Uint8Array(Buffer.from(pngBase64, 'base64')));
      return { request: parsed.request, source: parsed.source };
    },
  };
}
