// The VAE decoder's model source in the chosen convolution form: the rewritten bytes for
// 'winograd' when anything was eligible, else the source as given.
import type { ModelSource } from '../session.ts';
import { winogradModel, winogradModelFromFile } from './winograd-convs.ts';

export type VaeConvolutions = 'direct' | 'winograd';

export async function vaeSource(source: ModelSource, form: VaeConvolutions): Promise<{ source: ModelSource; form: VaeConvolutions }> {
  if (form === 'direct') return { source, form };
  try {
    const rewritten = typeof source === 'string' ? await winogradModelFromFile(source) : winogradModel(source, undefined);
    // fp16 or small decoders have nothing to rewrite: keep the original (no re-encoded copy).
    return rewritten.rewritten.length > 0 ? { source: rewritten.bytes, form: 'winograd' } : { source, form: 'direct' };
  } catch (e) {
    const label = typeof source === 'string' ? source : 'the VAE decoder';
    throw new Error(`${label}: could not put its convolutions in Winograd form (${(e as Error).message}); use vaeConvolutions 'direct'`);
  }
}
