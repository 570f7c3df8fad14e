import { ort } from './ort.ts';

export interface OnnxValueInfo {
  name: string;
  /** Element type as onnxruntime names it: 'float32', 'float16', 'int64', 'int32', … */
  type: string;
  /** Dimensions: numbers for fixed axes, names for dynamic ones. */
  shape: Array<number | string>;
}

export interface OnnxSignature {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): OnnxValueInfo[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: [...m.shape] }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** Reads the input/output names, element types and shapes from an open session. */
export function signatureOf(session: ort.InferenceSession): OnnxSignature {
  return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
}

/**
 * Opens a model just long enough to read its signature. Session creation is synchronous native
 * work, so call this from the inference process or a CLI, never from the Electron main loop.
 */
export async function inspectOnnxModel(path: string): Promise<OnnxSignature> {
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled' });
  try {
    return signatureOf(session);
  } finally {
    await session.release();
  }
}
