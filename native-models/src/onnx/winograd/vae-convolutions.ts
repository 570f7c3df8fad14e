// The VAE decoder's model source in the chosen convolution form: the rewritten bytes for
// 'winograd' when anything was eligible, else the source as given.
//
// Which convs: those with 512 input channels whose transformed input stays under 80 MiB at 512²
// (the mid block and up blocks 0-1 at 64² and 128²: 17 of SD 1.5's 30 3x3 convs). Measured on the
// 2-core CPU (SD 1.5 VAE decoder at 512², arena on, min of 3 alternating runs): direct 9.2 s;
// this rule 8.0-8.1 s with the decoder's own peak 1.7-1.9 GiB (direct 1.3 GiB); all 512-channel
// convs 7.3 s; also the 256-channel ones up to 256² 6.9-7.3 s but 2.4 GiB, which put the whole
// pipeline at 1.66x its weights (this rule: 1.44-1.57x over 4 runs).
import type { ModelSource } from '../session.ts';
import { winogradModel, winogradModelFromFile, type WinogradOptions } from './winograd-convs.ts';

const VAE_RULE: WinogradOptions = { minInputChannels: 512, maxTransformBytes: 80 * 2 ** 20 };

export type VaeConvolutions = 'direct' | 'winograd';

export async function vaeSource(source: ModelSource, form: VaeConvolutions): Promise<{ source: ModelSource; form: VaeConvolutions }> {
  if (form === 'direct') return { source, form };
  try {
    const rewritten = typeof source === 'string' ? await winogradModelFromFile(source, VAE_RULE) : winogradModel(source, undefined, VAE_RULE);
    // fp16 or small decoders have nothing to rewrite: keep the original (no re-encoded copy).
    return rewritten.rewritten.length > 0 ? { source: rewritten.bytes, form: 'winograd' } : { source, form: 'direct' };
  } catch (e) {
    const label = typeof source === 'string' ? source : 'the VAE decoder';
    throw new Error(`${label}: could not put its convolutions in Winograd form (${(e as Error).message}); use vaeConvolutions 'direct'`);
  }
}
