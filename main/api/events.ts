// One typed event stream from the main side's services to every connected renderer (IPC
// windows, SSE clients). Payloads are checked against the contract before they leave.
import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from '../contract/api.ts';

export type AnyEvent = { [E in EventName]: { name: E; payload: EventPayload<E> } }[EventName];

export class EventBus {
  private readonly emitter = new EventEmitter<{ event: [AnyEvent] }>();

  constructor() {
    // Every SSE client is one listener; many browser tabs must not trip the leak warning.
    this.emitter.setMaxListeners(0);
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', { name, payload } as AnyEvent);
  }

  subscribe(listener: (event: AnyEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
