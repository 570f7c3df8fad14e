/**
 * ONNX sessions with a provider choice, CPU fallback, their declared signature, input checks
 * before every run, and the time spent inside onnxruntime.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GraphCacheOutcome, OptimizedGraphCache } from './graph-cache.ts';
import { signatureOf, type OnnxSignature, type OnnxValueInfo } from './inspect.ts';
import { createOrtSession, EXTERNAL_DATA_FOLDER, ort, type OrtSession, type OrtTensor } from './ort.ts';
import { availableBackends, missingProviderLibrary, providerCandidates, type ExecutionProvider, type ProviderChoice, type ProviderReport } from './providers.ts';

/** A model file path, or the model's bytes (e.g. a graph patched or built in memory). */
export type ModelSource = string | Uint8Array;

export interface SessionOptions {
  provider?: ProviderChoice;
  /** Threads for one operator (onnxruntime's default: one per physical core). */
  intraOpThreads?: number;
  /** Name used in messages, e.g. "unet/model.onnx". */
  label?: string;
  /** Weights the model's external-data references resolve to from memory (a LoRA-patched UNet). */
  externalData?: ort.InferenceSession.SessionOptions['externalData'];
  /** Folder a model given as bytes reads its external data files from (a rewritten graph of a model file). */
  externalDataDir?: string;
  tuning?: SessionTuning;
  /** Keeps onnxruntime's optimised CPU graphs on disk, so later opens skip optimising (./graph-cache.ts). */
  graphCache?: OptimizedGraphCache;
  /**
   * Folder onnxruntime writes this session's profile into (each kernel's time and shapes, every run;
   * written out when the session is released): `npm run bench -- --roofline`. Off by default.
   */
  profileDir?: string;
}

/** The file-name prefix a session's profile is written under; onnxruntime appends `_<time>.json`. */
export function profilePrefix(dir: string, label: string): string {
  return join(dir, label.replace(/[^A-Za-z0-9.() -]+/g, '_').slice(-120));
}

/**
 * Memory/speed settings measured by `npm run bench` (see bench/README figures). Unset fields keep
 * onnxruntime's defaults (arena on, memory pattern on, prepacking on).
 */
export interface SessionTuning {
  /** The CPU arena keeps freed blocks for reuse (faster repeated runs, higher peak). */
  cpuMemArena?: boolean;
  /** Plans buffers from the first run's shapes. */
  memPattern?: boolean;
  /** Weight prepacking copies GEMM/conv weights into a second, packed layout (faster, more memory). */
  prepacking?: boolean;
  /** onnxruntime config entries ("session.xxx": "1"), for settings without a typed option. */
  configEntries?: Record<string, string>;
}

/** Session options for a tuning (exported for tests). */
export function tuningOptions(t: SessionTuning | undefined): Partial<ort.InferenceSession.SessionOptions> {
  if (!t) return {};
  const entries: Record<string, string> = { ...(t.prepacking === false ? { 'session.disable_prepacking': '1' } : {}), ...t.configEntries };
  return {
    ...(t.cpuMemArena !== undefined ? { enableCpuMemArena: t.cpuMemArena } : {}),
    ...(t.memPattern !== undefined ? { enableMemPattern: t.memPattern } : {}),
    // The binding flattens nested keys with dots, so flat "session.x" keys reach onnxruntime as they are.
    ...(Object.keys(entries).length > 0 ? { extra: entries } : {}),
  };
}

export type Feeds = Record<string, OrtTensor>;

export class ModelSession {
  /** Milliseconds spent inside session.run() since creation. */
  ortTimeMs = 0;
  /** Runs since creation (a profile's runs are told apart by it: bench/roofline.ts). */
  runs = 0;
  private released = false;
  /** Input/output names, element types and shapes as the session declares them. */
  readonly signature: OnnxSignature;

  constructor(
    readonly session: OrtSession,
    readonly label: string,
    readonly provider: ProviderReport,
    /** Whether the graph came from the optimised-graph cache, was stored in it, or why not; absent without one. */
    readonly graphCache?: GraphCacheOutcome,
  ) {
    this.signature = signatureOf(session);
  }

  input(name: string): OnnxValueInfo | undefined {
    return this.signature.inputs.find((i) => i.name === name);
  }

  /** Checks the feeds against the declared inputs, runs, and returns outputs plus the run's time. */
  async run(feeds: Feeds): Promise<{ outputs: Record<string, OrtTensor>; ortMs: number }> {
    if (this.released) throw new Error(`${this.label}: session was released`);
    checkFeeds(this.label, this.signature, feeds);
    const started = performance.now();
    const outputs = await this.session.run(feeds);
    const ortMs = performance.now() - started;
    this.ortTimeMs += ortMs;
    this.runs++;
    return { outputs, ortMs };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** Throws one clear line when a feed is missing, unexpected, or of the wrong type or rank. */
export function checkFeeds(label: string, signature: OnnxSignature, feeds: Feeds): void {
  for (const input of signature.inputs) {
    const feed = feeds[input.name];
    if (!feed) throw new Error(`${label}: input "${input.name}" was not given`);
    if (input.type !== feed.type) {
      throw new Error(`${label}: input "${input.name}" expects ${input.type}, got ${feed.type}`);
    }
    if (input.shape.length !== feed.dims.length) {
      throw new Error(
        `${label}: input "${input.name}" expects shape [${input.shape.join(', ')}], got [${feed.dims.join(', ')}]`,
      );
    }
    input.shape.forEach((dim, axis) => {
      if (typeof dim === 'number' && dim !== feed.dims[axis]) {
        throw new Error(
          `${label}: input "${input.name}" expects ${dim} on axis ${axis} (shape [${input.shape.join(', ')}]), got [${feed.dims.join(', ')}]`,
        );
      }
    });
  }
  for (const name of Object.keys(feeds)) {
    if (!signature.inputs.some((i) => i.name === name)) {
      throw new Error(`${label}: the model has no input "${name}" (inputs: ${signature.inputs.map((i) => i.name).join(', ')})`);
    }
  }
}

/**
 * Providers that failed to start in this process, with the reason. A missing CUDA/DirectML runtime
 * fails the same way for every model, so later sessions skip it at once instead of paying the
 * failed start (and onnxruntime's error log) again.
 */
const failedProviders = new Map<ExecutionProvider, string>();

export function resetProviderFailures(): void {
  failedProviders.clear();
}

/**
 * Opens a session on the best provider available for the choice, falling back to CPU when a
 * provider is missing or fails to start. The report says which ran and why.
 */
export async function openSession(source: ModelSource, options: SessionOptions = {}): Promise<ModelSession> {
  const requested = options.provider ?? 'auto';
  const label = options.label ?? (typeof source === 'string' ? source : 'model bytes');
  const known = availableBackends();
  const reasons: string[] = [];
  for (const provider of providerCandidates(requested)) {
    if (provider !== 'cpu' && !known.includes(provider)) {
      reasons.push(`${provider} is not in this onnxruntime-node build (has: ${known.join(', ')})`);
      continue;
    }
    const missing = requested === 'auto' ? missingProviderLibrary(provider) : null;
    if (missing) {
      reasons.push(missing);
      continue;
    }
    const earlierFailure = failedProviders.get(provider);
    if (earlierFailure) {
      reasons.push(earlierFailure);
      continue;
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      // A provider that cannot start is expected here (we fall back); keep its log off stderr.
      ...(provider === 'cpu' ? {} : { logSeverityLevel: 4 as const }),
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.externalData ? { externalData: options.externalData } : {}),
      ...tuningOptions(options.tuning),
      ...(options.profileDir ? { enableProfiling: true, profileFilePrefix: profilePrefix(options.profileDir, label) } : {}),
    };
    // onnxruntime writes no profile into a missing folder, and says nothing.
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    if (options.externalDataDir) {
      sessionOptions.extra = { ...(sessionOptions.extra as object | undefined), [EXTERNAL_DATA_FOLDER]: options.externalDataDir };
    }
    try {
      const { session, outcome } =
        provider === 'cpu' && options.graphCache
          ? await options.graphCache.createSession(source, sessionOptions, options.externalDataDir)
          : { session: await createOrtSession(source, sessionOptions), outcome: undefined };
      const report: ProviderReport = { requested, used: provider };
      if (reasons.length > 0) report.fallbackReason = reasons.join('; ');
      return new ModelSession(session, label, report, outcome);
    } catch (e) {
      const message = (e as Error).message.split('\n')[0] ?? String(e);
      if (provider === 'cpu') throw new Error(`${label}: onnxruntime could not load the model: ${message}`);
      const reason = `${provider} failed to start: ${message}`;
      failedProviders.set(provider, reason);
      reasons.push(reason);
    }
  }
  throw new Error(`${label}: no execution provider could load the model (${reasons.join('; ')})`);
}
