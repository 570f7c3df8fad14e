// `npm run bench -- --compare-plain`: the plain torch-style form (diffusers' batching, the standard
// export's attention, onnxruntime's default session settings, full VAE only) against our fastest
// form, both loaded in one process and run alternately, so machine load hits both alike.
import { StableDiffusionPipeline, type PipelineOptions } from '../src/pipeline/pipeline.ts';
import type { DecodeMode } from '../src/pipeline/request.ts';
import { measure, median, warmUp, type BenchFigures, type BenchSetting } from './measure.ts';

export interface BenchForm {
  name: string;
  dir: string;
  options: PipelineOptions;
  decode: DecodeMode;
}

/** One form's figures in the JSON the issue asks for (milliseconds; unet_ms is per step). */
export interface FormFigures {
  form: string;
  provider: string;
  size: string;
  steps: number;
  guidance: number;
  decode: DecodeMode;
  load_ms: number;
  text_ms: number;
  unet_ms: number[];
  vae_ms: number;
  preview_ms: number;
  first_picture_ms: number;
  png_ms: number;
  end_to_end_ms: number;
  ort_ms: number;
  overhead: number;
  /** Resident memory the form added: after loading and running, minus before loading it. */
  rss_mb: number;
  /** The process's peak resident memory when this form's measurement ended. */
  peak_rss_mb: number;
}

export const rssMb = () => process.memoryUsage().rss / 2 ** 20;
export const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

export function formFigures(form: string, provider: string, f: BenchFigures, loadMs: number, rss: number, decode: DecodeMode): FormFigures {
  return {
    form,
    provider,
    size: `${f.width}x${f.height}`,
    steps: f.steps,
    guidance: f.guidance,
    decode,
    load_ms: loadMs,
    text_ms: f.textMs,
    unet_ms: f.unetMs,
    vae_ms: f.vaeMs,
    preview_ms: f.previewMs,
    first_picture_ms: f.firstPictureMs,
    png_ms: f.pngMs,
    end_to_end_ms: f.totalMs,
    ort_ms: f.ortMs,
    overhead: f.overhead,
    rss_mb: rss,
    peak_rss_mb: peakRssMb(),
  };
}

interface Loaded {
  form: BenchForm;
  pipeline: StableDiffusionPipeline;
  loadMs: number;
  rssMb: number;
}

export interface Comparison {
  settings: Array<{ setting: BenchSetting; forms: FormFigures[]; ratios: Record<'end_to_end' | 'first_picture' | 'unet' | 'load' | 'rss', number> }>;
}

/**
 * Loads each form (measuring its load time and memory), then for each setting runs the forms in
 * turn, `runs` rounds, one generation per form per round; medians per form. Ratios: fast ÷ plain.
 */
export async function compareForms(
  forms: [plain: BenchForm, fast: BenchForm],
  settings: BenchSetting[],
  options: { runs: number; warmup: number; log: (line: string) => void },
): Promise<Comparison> {
  const loaded: Loaded[] = [];
  try {
    for (const form of forms) {
      const before = rssMb();
      const t = performance.now();
      const pipeline = await StableDiffusionPipeline.fromFolder(form.dir, form.options);
      const loadMs = performance.now() - t;
      loaded.push({ form, pipeline, loadMs, rssMb: 0 });
      options.log(`${form.name}: loaded ${form.dir} in ${loadMs.toFixed(0)} ms (${(rssMb() - before).toFixed(0)} MB resident)`);
      // Warm-up here, so the form's resident memory includes its arenas.
      for (const setting of settings) await warmUp(pipeline, { ...setting, decode: form.decode }, options);
      loaded.at(-1)!.rssMb = rssMb() - before;
    }
    const out: Comparison = { settings: [] };
    for (const setting of settings) {
      const samples = loaded.map(() => [] as BenchFigures[]);
      for (let round = 0; round < options.runs; round++) {
        for (const [i, l] of loaded.entries()) {
          const f = await measure(l.pipeline, { ...setting, decode: l.form.decode }, { runs: 1, warmup: 0 });
          samples[i]!.push(f);
          options.log(`  round ${round + 1} ${l.form.name}: end-to-end ${f.totalMs.toFixed(0)} ms, first picture ${f.firstPictureMs.toFixed(0)} ms`);
        }
      }
      const forms = loaded.map((l, i) => formFigures(l.form.name, l.pipeline.components.unet.provider.used, medianFigures(samples[i]!), l.loadMs, l.rssMb, l.form.decode));
      const [plain, fast] = forms as [FormFigures, FormFigures];
      const ratios = {
        end_to_end: fast.end_to_end_ms / plain.end_to_end_ms,
        first_picture: fast.first_picture_ms / plain.first_picture_ms,
        unet: sum(fast.unet_ms) / sum(plain.unet_ms),
        load: fast.load_ms / plain.load_ms,
        rss: fast.rss_mb / plain.rss_mb,
      };
      out.settings.push({ setting, forms, ratios });
    }
    return out;
  } finally {
    for (const l of loaded) await l.pipeline.release();
  }
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

/** Per-field medians of single-run figures (overhead: ratio of the summed times). */
function medianFigures(samples: BenchFigures[]): BenchFigures {
  const first = samples[0]!;
  const pick = (f: (b: BenchFigures) => number) => median(samples.map(f));
  return {
    ...first,
    runs: samples.length,
    textMs: pick((s) => s.textMs),
    noiseMs: pick((s) => s.noiseMs),
    unetMs: first.unetMs.map((_, i) => pick((s) => s.unetMs[i]!)),
    schedulerMs: pick((s) => s.schedulerMs),
    vaeMs: pick((s) => s.vaeMs),
    previewMs: pick((s) => s.previewMs),
    firstPictureMs: pick((s) => s.firstPictureMs),
    pngMs: pick((s) => s.pngMs),
    totalMs: pick((s) => s.totalMs),
    ortMs: pick((s) => s.ortMs),
    perImageMs: pick((s) => s.perImageMs),
    overhead: sum(samples.map((s) => s.totalMs)) / sum(samples.map((s) => s.ortMs)),
    overheadWithoutPng: sum(samples.map((s) => s.totalMs - s.pngMs)) / sum(samples.map((s) => s.ortMs)),
  };
}

const s1 = (ms: number) => (ms / 1000).toFixed(2);

export function formatComparison(c: Comparison): string {
  const lines: string[] = [];
  for (const { setting, forms, ratios } of c.settings) {
    lines.push(`steps ${setting.steps} guidance ${setting.guidance} ${setting.width}x${setting.height}:`);
    for (const f of forms) {
      lines.push(
        `  ${f.form.padEnd(6)} load ${s1(f.load_ms)} s | text ${s1(f.text_ms)} s | unet ${f.unet_ms.map(s1).join(' + ')} s | ` +
          `${f.preview_ms > 0 ? `preview ${s1(f.preview_ms)} s | ` : ''}vae ${s1(f.vae_ms)} s | png ${s1(f.png_ms)} s | ` +
          `first picture ${s1(f.first_picture_ms)} s | end-to-end ${s1(f.end_to_end_ms)} s | overhead ${f.overhead.toFixed(3)}x | +${f.rss_mb.toFixed(0)} MB resident`,
      );
    }
    lines.push(`  fast ÷ plain: end-to-end ${ratios.end_to_end.toFixed(2)}x | first picture ${ratios.first_picture.toFixed(2)}x | unet ${ratios.unet.toFixed(2)}x | load ${ratios.load.toFixed(2)}x | memory ${ratios.rss.toFixed(2)}x`);
  }
  return lines.join('\n');
}
