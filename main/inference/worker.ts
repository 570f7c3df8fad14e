// Entry of the inference process (a Node child process under `serve`, an Electron
// utilityProcess in the app). onnxruntime's run() blocks the thread that calls it, so all
// model loading and generation happen here, never on the main side's event loop.
// One generation at a time; cancel aborts its AbortSignal, which the pipeline checks between
// UNet steps.
import { ToWorker, type FromWorker } from './protocol.ts';
import { availableProviders, generate, prepareModel, releaseModel } from './worker-pipeline.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

// Electron's utilityProcess has process.parentPort; a Node child process has process.send.
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(message: FromWorker): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

/**
 * Sends and resolves once the message has left this process. The full decoder that follows a preview
 * holds the thread for its whole run; a large message still queued in the pipe would wait for it.
 */
function sendNow(message: FromWorker): Promise<void> {
  if (parentPort) {
    parentPort.postMessage(message);
    return new Promise((resolve) => setImmediate(resolve));
  }
  const sendToParent = process.send?.bind(process);
  if (!sendToParent) return Promise.resolve();
  // The callback runs once the bytes are written (or with an error when the channel is gone).
  return new Promise((resolve) => sendToParent(message, undefined, {}, () => resolve()));
}

function onMessage(listener: (raw: unknown) => void): void {
  if (parentPort) parentPort.on('message', (event) => listener(event.data));
  else process.on('message', listener);
}

const running = new Map<string, AbortController>();
// Messages are handled one after another: a generate that arrives while another runs waits.
let chain: Promise<void> = Promise.resolve();

onMessage((raw) => {
  const parsed = ToWorker.safeParse(raw);
  if (!parsed.success) {
    console.error(`inference process: ignored an invalid message: ${parsed.error.message}`);
    return;
  }
  const message = parsed.data;
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  if (message.type === 'prepare') {
    chain = chain.then(() =>
      prepareModel(message.models, message.loraScale, message.provider, message.memory).catch((error: unknown) =>
        console.error(`preparing ${message.models.baseDir} failed: ${(error as Error).message}`),
      ),
    );
    return;
  }
  if (message.type === 'release') {
    chain = chain.then(async () => {
      try {
        await releaseModel(message.baseDir);
      } catch (error) {
        console.error(`releasing ${message.baseDir} failed: ${(error as Error).message}`);
      }
      send({ type: 'released', baseDir: message.baseDir });
    });
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  chain = chain.then(async () => {
    try {
      const result = await generate(message, controller.signal, {
        onProgress: (stage, step, steps) => send({ type: 'progress', id: message.id, stage, step, steps }),
        onImage: (image) => send({ type: 'image', id: message.id, ...image }),
        onPreview: (preview) => sendNow({ type: 'preview', id: message.id, ...preview }),
      });
      send({ type: 'done', id: message.id, ...result });
    } catch (error) {
      if (controller.signal.aborted) send({ type: 'cancelled', id: message.id });
      else send({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) });
    } finally {
      running.delete(message.id);
    }
  });
});

// The main side is our only reason to live: when it goes, so do we (no orphaned GPU memory).
if (!parentPort) process.on('disconnect', () => process.exit(0));

send({ type: 'ready', pid: process.pid, providers: await availableProviders() });
