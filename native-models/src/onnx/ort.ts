// The only module in the repository that imports onnxruntime-node. Everything else goes through
// native-models/src/onnx/*, so the binding can be swapped, mocked for a GPU provider in a test,
// or loaded lazily in one place.
import * as ort from 'onnxruntime-node';

export { ort };
export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;
