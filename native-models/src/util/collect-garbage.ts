// Loading a model leaves large JS buffers behind that onnxruntime has already copied: a LoRA's fused
// weights (up to the UNet's size), graphs converted in memory from a checkpoint, a model given as
// bytes (rewritten graphs carry no weights: onnxruntime folds the ones they derive). V8 frees them
// at its next full collection, which an idle process may not run before the first generation, whose
// peak memory they would then add to. Hosts that start Node with --expose-gc (the inference
// process, the benchmark) collect them at once; elsewhere this is a no-op.
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
