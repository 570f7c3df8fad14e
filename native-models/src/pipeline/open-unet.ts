// Opens a UNet in the wanted form (../onnx/graph-rewrites/unet-graph.ts): one session, or the
// text-free prefix's and the rest's. Shared by the pipeline and the LoRA-patched UNets, so a patched
// UNet runs in the same form as the base model's.
import { unetGraphs, type GraphSource, type UnetForm } from '../onnx/graph-rewrites/unet-graph.ts';
import type { ModelSession, ModelSource } from '../onnx/session.ts';
import { OnnxUNet } from './components.ts';

/** Opens one graph; `part` names it in labels ('' for the whole UNet, ' (prefix)', ' (rest)'). */
export type GraphOpener = (graph: GraphSource, part: string) => Promise<ModelSession>;

export async function openUnet(source: ModelSource, wanted: UnetForm, open: GraphOpener): Promise<{ unet: OnnxUNet; form: UnetForm }> {
  const graphs = await unetGraphs(source, wanted);
  if ('whole' in graphs) return { unet: new OnnxUNet(await open(graphs.whole, '')), form: graphs.form };
  const prefix = await open(graphs.prefix, ' (prefix)');
  try {
    return { unet: new OnnxUNet(await open(graphs.suffix(prefix.signature.outputs), ' (rest)'), prefix), form: graphs.form };
  } catch (e) {
    await prefix.release();
    throw e;
  }
}
