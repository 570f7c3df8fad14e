// Opens an onnxruntime session on a patched model: model bytes and every external weight from
// memory (`externalData`, which the Node binding of onnxruntime 1.30 supports; the session keeps
// its own copy, so the buffer may be dropped once the session exists).
import { ort } from '../onnx/ort.ts';
import type { PatchedModel } from './fuse-lora.ts';

type SessionOptions = ort.InferenceSession.SessionOptions;

export function fusedExternalData(patched: PatchedModel): NonNullable<SessionOptions['externalData']> {
  return patched.fusedWeights.map((f) => ({ path: f.location, data: f.data }));
}

/** Bytes of fused (and carried) weights a patched model hands to its session. */
export function fusedBytes(patched: PatchedModel): number {
  return patched.fusedWeights.reduce((sum, f) => sum + f.data.length, 0);
}

export function patchedSessionOptions(patched: PatchedModel, base: SessionOptions = {}): SessionOptions {
  return { ...base, externalData: fusedExternalData(patched) };
}

export function createPatchedSession(patched: PatchedModel, base: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(patched.modelBytes, patchedSessionOptions(patched, base));
}
