/**
 * Building input tensors in whatever element type a session declares (fp32/fp16 floats, int32/int64
 * ids and timesteps) and reading float outputs back as Float32Array.
 */
import { floatsToHalf, halfToFloats } from '../util/float16.ts';
import { ort, type OrtTensor } from './ort.ts';

export function floatTensor(type: string, data: Float32Array, dims: readonly number[]): OrtTensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  if (type === 'float16') return new ort.Tensor('float16', floatsToHalf(data), dims);
  if (type === 'float64') return new ort.Tensor('float64', Float64Array.from(data), dims);
  throw new Error(`expected a float input type, the model declares ${type}`);
}

/** Integers (token ids, timesteps) as int32/int64, or as floats when the graph takes them so. */
export function integerTensor(type: string, values: readonly number[], dims: readonly number[]): OrtTensor {
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return floatTensor(type, Float32Array.from(values), dims);
}

export function readFloats(tensor: OrtTensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const data = tensor.data as unknown;
    // onnxruntime-node returns float16 as Uint16Array bits (or Float16Array where the runtime has it).
    return data instanceof Uint16Array ? halfToFloats(data) : Float32Array.from(data as ArrayLike<number>);
  }
  if (tensor.type === 'float64') return Float32Array.from(tensor.data as Float64Array);
  throw new Error(`${what}: expected a float output, got ${tensor.type}`);
}
