/**
 * Outputs of a UNet session kept for inputs that come again, found only for byte-identical inputs
 * of the same shape (one seed's noise is the same values at 512x768 and 768x512), so what is found
 * is what the same session computed from the same inputs. Inputs come again while someone edits the
 * prompt with the seed fixed (live pictures as they type, the seed locked): the first step's latents
 * are that seed's noise every time. Two uses:
 *  - a guided step's unconditional half reads the latents, the timestep and the negative text, not
 *    the prompt (the pipeline keeps it and runs only the prompt's half);
 *  - the UNet's text-free prefix reads only the latents and the timestep (OnnxUNet keeps its outputs).
 */
export interface MemoKey {
  timestep: number;
  /** The latents' shape. */
  dims: readonly number[];
  /** The float inputs: the latents, then any other (the negative text's embedding). */
  inputs: readonly Float32Array[];
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameValues = (a: Float32Array, b: Float32Array) => a.length === b.length && bytes(a).equals(bytes(b));
const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const sameKey = (a: MemoKey, b: MemoKey) =>
  a.timestep === b.timestep && sameDims(a.dims, b.dims) && a.inputs.length === b.inputs.length && a.inputs.every((x, i) => sameValues(x, b.inputs[i]!));

export class ExactMemo<T> {
  #entries: Array<{ key: MemoKey; value: T }> = [];

  constructor(private readonly capacity: number) {}

  find(key: MemoKey): T | undefined {
    const index = this.#entries.findIndex((e) => sameKey(e.key, key));
    if (index < 0) return undefined;
    const [entry] = this.#entries.splice(index, 1);
    this.#entries.push(entry!); // most recently used last
    return entry!.value;
  }

  /** Keeps a copy of the key: the caller's arrays may be views into buffers it reuses. The value is kept as given. */
  remember(key: MemoKey, value: T): void {
    this.#entries.push({ key: { timestep: key.timestep, dims: [...key.dims], inputs: key.inputs.map((x) => x.slice()) }, value });
    if (this.#entries.length > this.capacity) this.#entries.shift();
  }

  clear(): void {
    this.#entries = [];
  }
}
