// Server-Sent Events at /api/events: one named SSE event per contract event
// (`event: job.updated`, `data: <json payload>`), a comment every 15 s so proxies and idle
// timers keep the stream open, and nothing buffered for slow clients beyond the socket's own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../api/events.ts';

const HEARTBEAT_MS = 15_000;

export function serveEvents(bus: EventBus, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n: connected\n\n');
  const unsubscribe = bus.subscribe((event) => {
    res.write(`event: ${event.name}\ndata: ${JSON.stringify(event.payload)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  req.on('close', close);
  res.on('error', close);
}
