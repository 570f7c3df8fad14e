// Puts the right UNet (and text encoder) for a LoRA choice into a StableDiffusionPipeline. The
// sessions are owned here and kept across switches (see ./lora-sessions.ts); the pipeline only
// borrows them, so its release() never closes a kept session.
import { totalmem } from 'node:os';
import type { ModelFolder } from '../model/model-folder.ts';
import { EXPORTED_UNET, type UnetForm } from '../onnx/graph-rewrites/unet-graph.ts';
import { openSession, type ModelSession, type SessionOptions } from '../onnx/session.ts';
import { OnnxTextEncoder, OnnxUNet, type TextEncoder, type UNet } from '../pipeline/components.ts';
import { openUnet } from '../pipeline/open-unet.ts';
import { DEFAULT_TUNING, type StableDiffusionPipeline } from '../pipeline/pipeline.ts';
import type { LoraReport } from './apply-lora.ts';
import { fusedExternalData } from './patched-session.ts';
import { LoraSessions, type LoraSelection, type LoraSessionsResult } from './lora-sessions.ts';

/**
 * Kept sessions may use half of the machine's memory unless told otherwise: on 16 GB that keeps two
 * fp32 YOSO UNets (3.3 GB each), so switching between two base models reloads nothing.
 */
export function defaultLoraBudgetBytes(): number {
  return Math.floor(totalmem() / 2);
}

class BorrowedUNet implements UNet {
  constructor(private readonly inner: UNet) {}
  get provider() {
    return this.inner.provider;
  }
  predict(...args: Parameters<UNet['predict']>) {
    return this.inner.predict(...args);
  }
  predictEach(...args: Parameters<UNet['predictEach']>) {
    return this.inner.predictEach(...args);
  }
  async release() {}
}

class BorrowedTextEncoder implements TextEncoder {
  constructor(private readonly inner: TextEncoder) {}
  get provider() {
    return this.inner.provider;
  }
  encode(ids: readonly number[][]) {
    return this.inner.encode(ids);
  }
  async release() {}
}

export interface LoraSwitch {
  report?: LoraReport;
  /** True when the UNet came from the kept sessions (no fusion, no session creation). */
  reused: boolean;
  timings: LoraSessionsResult<OnnxUNet, ModelSession>['timings'];
}

export class LoraUnets {
  private readonly sessions: LoraSessions<OnnxUNet, ModelSession>;
  /** The form of the pipeline's own UNet, which patched UNets are opened in too. */
  private unetForm: UnetForm = EXPORTED_UNET;
  private readonly baseTextEncoders = new WeakMap<StableDiffusionPipeline, TextEncoder>();
  /** One wrapper per kept UNet, so re-applying a LoRA keeps the pipeline's unconditional halves. */
  private readonly borrowedUnets = new WeakMap<OnnxUNet, UNet>();
  /** One wrapper per patched text-encoder session, so re-applying a LoRA keeps the embedding cache. */
  private readonly patchedTextEncoders = new WeakMap<ModelSession, TextEncoder>();
  /** Components taken over from pipelines, closed by release(). */
  private readonly owned: Array<{ release(): Promise<void> }> = [];

  constructor(sessionOptions: SessionOptions = {}, budgetBytes = defaultLoraBudgetBytes()) {
    // A patched UNet gets the base UNet's memory settings (the pipeline's defaults) and form.
    const options = { ...sessionOptions, tuning: sessionOptions.tuning ?? DEFAULT_TUNING };
    this.sessions = new LoraSessions<OnnxUNet, ModelSession>(
      {
        unet: async (source) => {
          // A patched UNet's weights are handed over in memory; a model file's graphs read theirs from its folder.
          const { graph, label, weights } =
            typeof source === 'string'
              ? { graph: source, label: 'unet/model.onnx', weights: {} }
              : { graph: source.modelBytes, label: 'unet/model.onnx + LoRA', weights: { externalData: fusedExternalData(source) } };
          const opened = await openUnet(graph, this.unetForm, (g, part) =>
            openSession(g.source, { ...options, ...weights, label: label + part, ...(g.externalDataDir ? { externalDataDir: g.externalDataDir } : {}) }),
          );
          return opened.unet;
        },
        textEncoder: (source) =>
          typeof source === 'string'
            ? openSession(source, { ...options, label: source })
            : openSession(source.modelBytes, { ...options, label: 'text_encoder/model.onnx + LoRA', externalData: fusedExternalData(source) }),
      },
      budgetBytes,
    );
  }

  keptKeys(): string[] {
    return this.sessions.keptKeys();
  }

  get keptBytes(): number {
    return this.sessions.keptBytes;
  }

  /** Switches `pipeline` (opened on `folder`) to the base model with `lora`, or without LoRA. */
  async apply(pipeline: StableDiffusionPipeline, folder: ModelFolder, lora?: LoraSelection): Promise<LoraSwitch> {
    const base = { unet: folder.unet, textEncoder: folder.textEncoder };
    this.unetForm = pipeline.components.unetForm ?? EXPORTED_UNET;
    if (!this.baseTextEncoders.has(pipeline)) {
      // First switch of this pipeline: its own sessions become kept entries instead of being closed.
      const { unet, textEncoder } = pipeline.components;
      if (unet instanceof OnnxUNet) await this.sessions.adopt(base, unet);
      else this.owned.push(unet);
      this.owned.push(textEncoder);
      this.baseTextEncoders.set(pipeline, new BorrowedTextEncoder(textEncoder));
    }
    const result = await this.sessions.sessions(base, lora);
    pipeline.replaceUnet(this.borrowedUnet(result.unet));
    pipeline.replaceTextEncoder(result.textEncoder ? this.borrowedTextEncoder(result.textEncoder) : this.baseTextEncoders.get(pipeline)!);
    const change: LoraSwitch = { reused: result.reused, timings: result.timings };
    if (result.report) change.report = result.report;
    return change;
  }

  private borrowedUnet(unet: OnnxUNet): UNet {
    let borrowed = this.borrowedUnets.get(unet);
    if (!borrowed) {
      borrowed = new BorrowedUNet(unet);
      this.borrowedUnets.set(unet, borrowed);
    }
    return borrowed;
  }

  private borrowedTextEncoder(session: ModelSession): TextEncoder {
    let encoder = this.patchedTextEncoders.get(session);
    if (!encoder) {
      encoder = new BorrowedTextEncoder(new OnnxTextEncoder(session));
      this.patchedTextEncoders.set(session, encoder);
    }
    return encoder;
  }

  /** Closes every kept session. Call after the pipelines that borrowed them are released. */
  async release(): Promise<void> {
    await this.sessions.releaseAll();
    for (const component of this.owned.splice(0)) await component.release();
  }
}

/** One line for logs and the CLI: what was applied and what matched nothing. */
export function describeLoraReport(path: string, report: LoraReport): string {
  const { applied } = report;
  const parts = [`LoRA ${path} at scale ${report.scale}: ${applied.unet} UNet layers`];
  if (applied.text_encoder > 0) parts.push(`${applied.text_encoder} text-encoder layers`);
  let line = parts.join(', ') + ' fused';
  if (report.unmatchedKeys.length > 0) {
    line += `; ${report.unmatchedKeys.length} keys matched no layer (${report.unmatchedKeys.slice(0, 3).join(', ')}${report.unmatchedKeys.length > 3 ? ', …' : ''})`;
  }
  if (report.ignoredKeys.length > 0) line += `; ${report.ignoredKeys.length} keys ignored (not LoRA weights for SD 1.5)`;
  return line;
}
