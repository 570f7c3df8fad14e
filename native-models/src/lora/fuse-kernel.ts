// W' = W + s · (A @ B), computed by onnxruntime in a tiny helper graph. The real YOSO LoRA is
// rank 64 over ~860 M UNet weights: ~110 GFLOP of products, far too slow as JS loops but a second
// or two for onnxruntime's multi-threaded MatMul. Products and the sum are float32 (as diffusers'
// fuse_lora computes them); float16 weights are widened, summed and rounded back once.
import { ort } from '../onnx/ort.ts';
import { ModelProto, DataType } from '../onnx/proto/onnx-schema.ts';

const tensorValue = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType } } });
const CAST_TYPE_INT = 2;

function helperGraph(weightType: number): Uint8Array {
  const float = DataType.FLOAT;
  const widen = weightType !== float;
  const nodes = [
    { opType: 'MatMul', input: ['A', 'B'], output: ['P'], name: 'product' },
    { opType: 'Mul', input: ['P', 'S'], output: ['Q'], name: 'scaled' },
    ...(widen ? [{ opType: 'Cast', input: ['W'], output: ['Wf'], name: 'widen', attribute: [{ name: 'to', i: float, type: CAST_TYPE_INT }] }] : []),
    { opType: 'Add', input: [widen ? 'Wf' : 'W', 'Q'], output: [widen ? 'Yf' : 'Y'], name: 'sum' },
    ...(widen ? [{ opType: 'Cast', input: ['Yf'], output: ['Y'], name: 'narrow', attribute: [{ name: 'to', i: weightType, type: CAST_TYPE_INT }] }] : []),
  ];
  const model = ModelProto.fromObject({
    irVersion: 7,
    producerName: 'yoso-studio-lora',
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: 'lora_fuse',
      node: nodes,
      input: [tensorValue('W', weightType), tensorValue('A', float), tensorValue('B', float), tensorValue('S', float)],
      output: [tensorValue('Y', weightType)],
    },
  });
  return ModelProto.encode(model).finish();
}

const ORT_TYPE: Record<number, 'float32' | 'float16'> = { [DataType.FLOAT]: 'float32', [DataType.FLOAT16]: 'float16' };

export class FuseKernel {
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();

  private session(weightType: number): Promise<ort.InferenceSession> {
    let session = this.sessions.get(weightType);
    if (!session) {
      if (!ORT_TYPE[weightType]) throw new Error(`LoRA fusion supports float32 and float16 weights, not ONNX type ${weightType}`);
      session = ort.InferenceSession.create(helperGraph(weightType));
      this.sessions.set(weightType, session);
    }
    return session;
  }

  /**
   * @param weight the weight's raw bytes, viewed as [rows, cols]
   * @param a [rows, rank]; @param b [rank, cols]
   * @returns the fused weight's raw bytes (same type and layout as `weight`)
   */
  async fuse(
    weightType: number,
    weight: Uint8Array,
    rows: number,
    cols: number,
    a: Float32Array,
    b: Float32Array,
    rank: number,
    scale: number,
  ): Promise<Uint8Array> {
    const session = await this.session(weightType);
    const type = ORT_TYPE[weightType]!;
    // Copy to an aligned buffer: typed-array views need 2/4-byte alignment, file reads do not give it.
    const aligned = new Uint8Array(weight.length);
    aligned.set(weight);
    const data = type === 'float32' ? new Float32Array(aligned.buffer) : new Uint16Array(aligned.buffer);
    const out = await session.run({
      W: new ort.Tensor(type, data, [rows, cols]),
      A: new ort.Tensor('float32', a, [rows, rank]),
      B: new ort.Tensor('float32', b, [rank, cols]),
      S: new ort.Tensor('float32', Float32Array.of(scale), []),
    });
    const y = out.Y!.data as Float32Array | Uint16Array;
    return new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }
}
