// The only module in the repository that imports onnxruntime-node. Everything else goes through
// native-models/src/onnx/*, so the binding can be swapped, mocked for a GPU provider in a test,
// or loaded lazily in one place.
import * as ort from 'onnxruntime-node';

export { ort };
export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;

/** onnxruntime's config entry naming the folder a model given as bytes reads its external data files from. */
export const EXTERNAL_DATA_FOLDER = 'session.model_external_initializers_file_folder_path';

/** A session from a model file or from the model's bytes (the binding types them as two overloads). */
export function createOrtSession(source: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<OrtSession> {
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}
