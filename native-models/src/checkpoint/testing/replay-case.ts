// Replays a tiny-sd15 fixture case through a model folder's three ONNX graphs (text encoder, UNet with
// classifier-free guidance, the recorded LCM step constants and step noise, VAE decoder) and
// reports how close each stage comes to the diffusers reference. Test support for the graph
// builder, independent of the app's pipeline, so a graph error shows up as a graph error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ort } from '../../onnx/ort.ts';

export interface CaseReport {
  textMaxAbs: number;
  poolerMaxAbs: number;
  unetMaxAbs: number;
  latentsMaxAbs: number;
  /** PSNR in dB of the image in [0, 1] (clamp(x/2 + 0.5)) against the reference. */
  imagePsnr: number;
}

interface CaseJson {
  parameters: { guidance_scale: number; num_images_per_prompt: number };
  do_classifier_free_guidance: boolean;
  token_ids: { cond: number[]; uncond?: number[] };
  scheduler: { timesteps: number[]; per_step: Array<{ alpha_prod_t: number; c_skip: number; c_out: number; alpha_prod_t_prev: number }> };
}

export function readCaseArray(caseDir: string, name: string): Float32Array {
  const b = readFileSync(join(caseDir, `${name}.bin`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function psnr01(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.min(1, Math.max(0, a[i]! / 2 + 0.5));
    const y = Math.min(1, Math.max(0, b[i]! / 2 + 0.5));
    se += (x - y) ** 2;
  }
  return se === 0 ? Infinity : 10 * Math.log10(a.length / se);
}

const repeat = (a: Float32Array, n: number) => {
  const out = new Float32Array(a.length * n);
  for (let i = 0; i < n; i++) out.set(a, i * a.length);
  return out;
};

export async function replayCase(modelDir: string, caseDir: string): Promise<CaseReport> {
  const c = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8')) as CaseJson;
  const open = (f: string) => ort.InferenceSession.create(join(modelDir, f, 'model.onnx'));
  const [te, unet, vae] = await Promise.all([open('text_encoder'), open('unet'), open('vae_decoder')]);
  try {
    const B = c.parameters.num_images_per_prompt;
    const cfg = c.do_classifier_free_guidance;
    const encode = async (ids: number[]) => {
      const out = await te.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]) });
      return { h: out.last_hidden_state!.data as Float32Array, pooled: out.pooler_output!.data as Float32Array, dims: out.last_hidden_state!.dims };
    };
    const cond = await encode(c.token_ids.cond);
    const textMaxAbs = maxAbs(cond.h, readCaseArray(caseDir, 'cond_text_embeddings'));
    const poolerMaxAbs = maxAbs(cond.pooled, readCaseArray(caseDir, 'cond_pooler_output'));
    const [S, H] = [cond.dims[1]!, cond.dims[2]!];
    const context = cfg
      ? Float32Array.from([...repeat((await encode(c.token_ids.uncond!)).h, B), ...repeat(cond.h, B)])
      : repeat(cond.h, B);
    const unetBatch = cfg ? 2 * B : B;

    let x = Float64Array.from(readCaseArray(caseDir, 'initial_latents'));
    const n = x.length;
    const latentDims = [B, 4, Math.round(Math.sqrt(n / B / 4)), Math.round(Math.sqrt(n / B / 4))];
    let unetMaxAbs = 0;
    let latentsMaxAbs = 0;
    const steps = c.scheduler.timesteps;
    for (let s = 0; s < steps.length; s++) {
      const sample = Float32Array.from(cfg ? [...x, ...x] : x);
      const out = await unet.run({
        sample: new ort.Tensor('float32', sample, [unetBatch, ...latentDims.slice(1)]),
        timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(steps[s]!)), [1]),
        encoder_hidden_states: new ort.Tensor('float32', context, [unetBatch, S, H]),
      });
      const eps = out.out_sample!.data as Float32Array;
      unetMaxAbs = Math.max(unetMaxAbs, maxAbs(eps, readCaseArray(caseDir, `step${s}_unet_out`)));
      const p = c.scheduler.per_step[s]!;
      const g = c.parameters.guidance_scale;
      const next = new Float64Array(n);
      const last = s === steps.length - 1;
      const noise = last ? null : readCaseArray(caseDir, `step${s}_noise`);
      for (let i = 0; i < n; i++) {
        const e = cfg ? eps[i]! + g * (eps[n + i]! - eps[i]!) : eps[i]!;
        const x0 = (x[i]! - Math.sqrt(1 - p.alpha_prod_t) * e) / Math.sqrt(p.alpha_prod_t);
        const denoised = p.c_out * x0 + p.c_skip * x[i]!;
        next[i] = last ? denoised : Math.sqrt(p.alpha_prod_t_prev) * denoised + Math.sqrt(1 - p.alpha_prod_t_prev) * noise![i]!;
      }
      x = next;
      latentsMaxAbs = Math.max(latentsMaxAbs, maxAbs(x, readCaseArray(caseDir, `step${s}_latents`)));
    }
    const decoded = await vae.run({ latent_sample: new ort.Tensor('float32', Float32Array.from(x, (v) => v / 0.18215), latentDims) });
    const imagePsnr = psnr01(decoded.sample!.data as Float32Array, readCaseArray(caseDir, 'vae_output'));
    return { textMaxAbs, poolerMaxAbs, unetMaxAbs, latentsMaxAbs, imagePsnr };
  } finally {
    await Promise.all([te.release(), unet.release(), vae.release()]);
  }
}
