// Loading a model leaves large JS buffers behind that onnxruntime has already copied: a rewritten
// graph's bytes and new weights (~0.35 GB for SD 1.5's VAE decoder), a LoRA's fused weights (up to
// the UNet's size). V8 frees them at its next full collection, which an idle process may not run
// before the first generation, whose peak memory they would then add to. Hosts that start Node with
// --expose-gc (the inference process, the benchmark) collect them at once; elsewhere this is a no-op.
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
