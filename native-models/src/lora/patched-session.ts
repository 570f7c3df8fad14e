// Opens an onnxruntime session on a patched model: model bytes from memory, fused weights from
// memory (`externalData`, supported by the Node binding since 1.17), and the model's untouched
// external data from its original folder (`session.model_external_initializers_file_folder_path`,
// needed because a model created from bytes has no folder of its own).
import { ort } from '../onnx/ort.ts';
import type { PatchedModel } from './fuse-lora.ts';

type SessionOptions = ort.InferenceSession.SessionOptions;

export function patchedSessionOptions(patched: PatchedModel, base: SessionOptions = {}): SessionOptions {
  const extra = (base.extra ?? {}) as Record<string, unknown>;
  const session = (extra.session ?? {}) as Record<string, unknown>;
  return {
    ...base,
    externalData: [{ path: patched.fusedWeights.location, data: patched.fusedWeights.data }],
    extra: patched.baseDir
      ? { ...extra, session: { ...session, model_external_initializers_file_folder_path: patched.baseDir } }
      : extra,
  };
}

export function createPatchedSession(patched: PatchedModel, base: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(patched.modelBytes, patchedSessionOptions(patched, base));
}
