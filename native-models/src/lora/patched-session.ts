// Opens an onnxruntime session on a patched model: model bytes and every external weight from
// memory (`externalData`, which the Node binding of onnxruntime 1.30 supports; the session keeps
// its own copy, so the buffer may be dropped once the session exists).
import { ort } from '../onnx/ort.ts';
import type { PatchedModel } from './fuse-lora.ts';

type SessionOptions = ort.InferenceSession.SessionOptions;

export function patchedSessionOptions(patched: PatchedModel, base: SessionOptions = {}): SessionOptions {
  return { ...base, externalData: [{ path: patched.fusedWeights.location, data: patched.fusedWeights.data }] };
}

export function createPatchedSession(patched: PatchedModel, base: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(patched.modelBytes, patchedSessionOptions(patched, base));
}
