// Whether onnxruntime's WebGPU provider can run here. It needs a Vulkan driver: a GPU's, or Mesa's
// software one (lavapipe, which .ci/run installs), so the GPU-provider code paths run for real in CI.
// Tests of those paths skip, saying why, where neither is present.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/graph-builder.ts';
import { writeOnnxModel } from '../src/graph/write-onnx.ts';
import { ort } from '../src/onnx/ort.ts';

let probe: Promise<string | undefined> | undefined;

/** undefined when a WebGPU session runs; else the reason it cannot (printed by the skipping test). */
export function webgpuUnavailable(): Promise<string | undefined> {
  // The Vulkan loader complains on stderr when this is unset (no desktop session), though it works.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  probe ??= (async () => {
    const g = new GraphBuilder('probe');
    g.output(g.op('Relu', [g.input('x', 'float32', [1])]), 'y', 'float32', [1]);
    const dir = mkdtempSync(join(tmpdir(), 'yoso-webgpu-'));
    try {
      writeOnnxModel(g.build(), dir);
      const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['webgpu'] });
      await session.release();
      return undefined;
    } catch (e) {
      return `no WebGPU adapter (${(e as Error).message.split('\n').at(-1)}); install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers ≥ 23 (.ci/run does)`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return probe;
}
