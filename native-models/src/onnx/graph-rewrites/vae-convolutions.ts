// The VAE decoder's model source in the chosen convolution form: for 'fast', the model rewritten in
// memory with fewer multiplications (same picture within float rounding); else the source as given.
// In 'float16' precision (GPU providers) its arithmetic runs in half precision (./half-precision.ts).
//
// Which convs: Winograd F(4x4, 3x3) for the 3x3 convs with 512 input channels whose transformed
// input stays under 80 MiB at 512² (mid block, up blocks 0-1 at 64² and 128²: 17 of SD 1.5's 30),
// then the upsample convs Winograd did not take as four 2x2 phase convs (./subpixel-upsample.ts:
// up blocks 1 and 2, 512 ch to 256² and 256 ch to 512²). SD 1.5's VAE decoder at 512² (2-core CPU,
// min of 3 alternating runs): direct 9.13 s, Winograd alone 8.01 s, both 7.38 s; output within 3e-5.
// (TAESD's 64-channel upsample convs gain nothing as phases: 0.99-1.37x; its decoder stays as it is.)
// Its mid-block attention is fused as the UNet's is (./attention-fusion.ts).
// Winograd rule, measured on the 2-core CPU (SD 1.5 VAE decoder at 512², arena on, min of 3
// alternating runs): direct 9.2 s; this rule 8.0-8.1 s with the decoder's own peak 1.7-1.9 GiB
// (direct 1.3 GiB); all 512-channel convs 7.3 s; also the 256-channel ones up to 256² 6.9-7.3 s
// but 2.4 GiB, which put the whole pipeline at 1.66x its weights (this rule: 1.44-1.57x).
import type { ModelSource } from '../session.ts';
import { EditableModel } from './editable-model.ts';
import { fuseAttention } from './attention-fusion.ts';
import { computeInHalf, type Precision } from './half-precision.ts';
import { rewriteUpsampleConvs } from './subpixel-upsample.ts';
import { rewriteWinograd, type WinogradOptions } from './winograd-convs.ts';

const VAE_WINOGRAD: WinogradOptions = { minInputChannels: 512, maxTransformBytes: 80 * 2 ** 20 };

export type VaeConvolutions = 'direct' | 'fast';

export interface VaeSource {
  source: ModelSource;
  /** Folder the rewritten bytes read the weights they left in place from (a model file's folder). */
  externalDataDir?: string;
  form: VaeConvolutions;
  precision: Precision;
}

export async function vaeSource(source: ModelSource, form: VaeConvolutions, precision: Precision = 'float32'): Promise<VaeSource> {
  if (form === 'direct' && precision === 'float32') return { source, form, precision };
  const label = typeof source === 'string' ? source : 'the VAE decoder';
  const m = await EditableModel.open(source);
  let fast = false;
  if (form === 'fast') {
    try {
      fast = [...rewriteWinograd(m, VAE_WINOGRAD), ...rewriteUpsampleConvs(m), ...fuseAttention(m)].length > 0;
    } catch (e) {
      throw new Error(`${label}: could not rewrite its convolutions (${(e as Error).message}); use vaeConvolutions 'direct'`);
    }
  }
  const halved = precision === 'float16' && computeInHalf(m).length > 0;
  // fp16 decoders or ones without such convs have nothing to rewrite: keep the original (no re-encoded copy).
  if (!fast && !halved) return { source, form: 'direct', precision: 'float32' };
  // Only the new weights go into the bytes; a file's others stay in its external data.
  return { ...m.toSource(), form: fast ? 'fast' : 'direct', precision: halved ? 'float16' : 'float32' };
}
