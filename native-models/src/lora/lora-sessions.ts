// The swap-friendly front door: sessions for (base model, LoRA, scale), patched on first use and
// kept under a memory budget. Switching base model or LoRA between generations needs no restart;
// switching back to a kept combination costs no reload.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { collectGarbage } from '../util/collect-garbage.ts';
import { applyLora, type LoraReport } from './apply-lora.ts';
import type { PatchedModel } from './fuse-lora.ts';
import { KeptSessions, type Releasable } from './kept-sessions.ts';
import { fusedBytes } from './patched-session.ts';
import { readLoraFile, type ParsedLora } from './lora-file.ts';

export interface LoraSelection {
  path: string;
  /** Multiplies alpha/rank; 1 = the LoRA as trained, 0 = the base model exactly. */
  scale: number;
}

export interface BaseModelPaths {
  unet: string;
  /** Needed only for LoRAs with text-encoder layers. */
  textEncoder?: string;
}

/** Opens a session on a model file path or on a patched model (see ./patched-session.ts). */
export type SessionOpener<T> = (source: string | PatchedModel) => Promise<T>;

/** One opener per network, when the UNet is opened as something else than the text encoder. */
export interface SessionOpeners<U, E> {
  unet: SessionOpener<U>;
  textEncoder: SessionOpener<E>;
}

export interface LoraSessionsResult<U, E = U> {
  unet: U;
  /** Only when the LoRA patches the text encoder; otherwise use the base text encoder. */
  textEncoder?: E;
  report?: LoraReport;
  reused: boolean;
  /** Milliseconds spent reading, fusing and opening (0 when reused). */
  timings: { readMs: number; fuseMs: number; openMs: number };
}

interface KeptCombination<U, E> extends Releasable {
  unet: U;
  textEncoder?: E;
  report?: LoraReport;
}

async function fileBytes(path: string): Promise<number> {
  let total = (await stat(path)).size;
  for (const data of new Set([`${path}_data`, `${path}.data`, resolve(dirname(path), 'model.onnx_data')])) {
    total += await stat(data).then((s) => s.size, () => 0);
  }
  return total;
}

function combinationKey(base: BaseModelPaths, loraId: string, scale: number): string {
  return JSON.stringify([resolve(base.unet), base.textEncoder ? resolve(base.textEncoder) : '', loraId, scale]);
}

export class LoraSessions<U extends Releasable, E extends Releasable = U> {
  private readonly kept: KeptSessions<KeptCombination<U, E>>;
  private readonly zeroScaleReports = new Map<string, LoraReport>();
  private readonly open: SessionOpeners<U, E>;

  /** `open`: one opener for both networks (E is then U), or one each. */
  constructor(open: SessionOpener<U> | SessionOpeners<U, E>, budgetBytes: number) {
    this.open = typeof open === 'function' ? { unet: open, textEncoder: open as unknown as SessionOpener<E> } : open;
    this.kept = new KeptSessions(budgetBytes);
  }

  /** Bytes the kept sessions are accounted for (fused weights, or model files for plain ones). */
  get keptBytes(): number {
    return this.kept.keptBytes;
  }

  /** Keys of the kept combinations, least recently used first (for tests and diagnostics). */
  keptKeys(): string[] {
    return this.kept.keys();
  }

  async sessions(base: BaseModelPaths, lora?: LoraSelection): Promise<LoraSessionsResult<U, E>> {
    const timings = { readMs: 0, fuseMs: 0, openMs: 0 };
    const patching = lora !== undefined && lora.scale !== 0;
    const loraId = patching ? await this.loraId(lora.path) : '-';
    let report: LoraReport | undefined;
    if (lora && !patching) {
      // Scale 0 is the base model itself (W + 0·ΔW = W), but the file is still checked, so a LoRA
      // that does not fit is refused at any scale. The check's report is remembered per (base,
      // file version): the app switches before every generation and must not re-read both each time.
      const checkKey = combinationKey(base, await this.loraId(lora.path), 0);
      report = this.zeroScaleReports.get(checkKey);
      if (!report) {
        const parsed = await readLoraFile(lora.path);
        report = (await applyLora(parsed, await this.models(base, parsed, timings), 0, lora.path)).report;
        this.zeroScaleReports.set(checkKey, report);
      }
    }
    const key = combinationKey(base, loraId, patching ? lora.scale : 0);
    const { value, reused } = await this.kept.acquire(key, async () => {
      const combination = patching ? await this.patch(base, lora, timings) : await this.plain(base, timings);
      return { value: combination, bytes: combination.bytes };
    });
    // A new combination's fused weights are now the sessions' copies only: free ours.
    if (!reused && patching) collectGarbage();
    const result: LoraSessionsResult<U, E> = { unet: value.unet, reused, timings };
    if (value.textEncoder) result.textEncoder = value.textEncoder;
    report ??= value.report;
    if (report) result.report = report;
    return result;
  }

  private async loraId(path: string): Promise<string> {
    const s = await stat(path).catch(() => {
      throw new Error(`LoRA file ${path} does not exist; choose a .safetensors LoRA file`);
    });
    return `${resolve(path)}:${s.size}:${s.mtimeMs}`;
  }

  private async plain(base: BaseModelPaths, timings: LoraSessionsResult<U, E>['timings']) {
    const started = performance.now();
    const unet = await this.open.unet(base.unet);
    timings.openMs = performance.now() - started;
    const combination: KeptCombination<U, E> & { bytes: number } = {
      unet,
      bytes: await fileBytes(base.unet),
      release: () => unet.release(),
    };
    return combination;
  }

  /** The graphs to patch; the text encoder only when the LoRA has layers for it. */
  private async models(base: BaseModelPaths, lora: ParsedLora, timings: LoraSessionsResult<U, E>['timings']) {
    const started = performance.now();
    const unet = await OnnxModel.load(base.unet);
    const needsTextEncoder = base.textEncoder && lora.layers.some((l) => l.component === 'text_encoder');
    const textEncoder = needsTextEncoder ? await OnnxModel.load(base.textEncoder!) : undefined;
    timings.readMs += performance.now() - started;
    return textEncoder ? { unet, textEncoder } : { unet };
  }

  /** Reads and fuses in a call of its own, so the LoRA and graphs are garbage before sessions open. */
  private async fuse(base: BaseModelPaths, lora: LoraSelection, timings: LoraSessionsResult<U, E>['timings']) {
    let started = performance.now();
    const parsed = await readLoraFile(lora.path);
    timings.readMs = performance.now() - started;
    const models = await this.models(base, parsed, timings);
    started = performance.now();
    const application = await applyLora(parsed, models, lora.scale, lora.path);
    timings.fuseMs = performance.now() - started;
    return application;
  }

  private async patch(base: BaseModelPaths, lora: LoraSelection, timings: LoraSessionsResult<U, E>['timings']) {
    const application = await this.fuse(base, lora, timings);
    const started = performance.now();
    const unet = await this.open.unet(application.unet ?? base.unet);
    let textEncoder: E | undefined;
    try {
      if (application.textEncoder) textEncoder = await this.open.textEncoder(application.textEncoder);
    } catch (error) {
      await unet.release();
      throw error;
    }
    timings.openMs = performance.now() - started;
    // onnxruntime copied the fused weights into the session; the JS buffers are garbage now.
    const bytes =
      (application.unet ? fusedBytes(application.unet) : await fileBytes(base.unet)) +
      (application.textEncoder ? fusedBytes(application.textEncoder) : 0);
    const combination: KeptCombination<U, E> & { bytes: number } = {
      unet,
      report: application.report,
      bytes,
      release: async () => {
        await unet.release();
        await textEncoder?.release();
      },
    };
    if (textEncoder) combination.textEncoder = textEncoder;
    return combination;
  }

  /** Keeps an already open base-model UNet (e.g. the one a pipeline was created with) as the no-LoRA entry. */
  async adopt(base: BaseModelPaths, unet: U): Promise<void> {
    const bytes = await fileBytes(base.unet);
    await this.kept.acquire(combinationKey(base, '-', 0), async () => ({ value: { unet, release: () => unet.release() }, bytes }));
  }

  async releaseAll(): Promise<void> {
    await this.kept.releaseAll();
  }
}
