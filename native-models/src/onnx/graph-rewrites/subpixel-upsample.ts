// Rewrites "nearest x2 upsample, then 3x3 conv" (diffusers' Upsample2D, TAESD's Upsample + conv)
// into four 2x2 convolutions on the small map, one per output phase, interleaved by DepthToSpace.
// Each output pixel (2i+a, 2j+b) of the conv reads upsampled rows 2i+a-1..2i+a+1, which are only
// two distinct rows of the small map: for a = 0 row i-1 (tap 0) and row i (taps 1+2), for a = 1
// row i (taps 0+1) and row i+1 (tap 2); columns alike. So summing the taps that land on the same
// pixel gives a 2x2 kernel per phase: 16 multiplications per output instead of 9 on a map 4x the
// size (36), and no upsampled map in memory. Zero padding at the borders maps to zero padding of
// the small map, so the result is the same up to float rounding of the summed weights (~1e-6).
//
// Measured on the 2-core AVX-512 CPU (onnxruntime 1.30, batch 1, min of 4 alternating runs), small
// map side -> time of Resize + conv vs the phases: 256 ch at 256² 1149 -> 741 ms (0.64x), 512 ch
// at 128² 989 -> 575 ms (0.58x), 512 at 64² 0.65x, 640 at 32² 0.72x, 1280 at 16² 0.90x, 1280 at 8²
// 1.06x (too small to matter); but 128 ch at 256² 0.80x, 64 ch at 256² 0.99x and at 128² 1.37x
// (the phases' Concat and DepthToSpace move as much memory as the few channels save), hence the
// input-channel threshold.
import { attrString, int, ints, nodeWriter, plain3x3Conv, str, type EditableModel, type Node } from './editable-model.ts';

/** The phases in DepthToSpace DCR order: channel block 2a+b holds output pixels (2i+a, 2j+b). */
const PHASES = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
] as const;

/**
 * Rewrites every eligible Resize + Conv pair whose conv has at least `minInputChannels` (default 128)
 * input channels, in place; returns the names of the Conv nodes rewritten.
 */
export function rewriteUpsampleConvs(m: EditableModel, minInputChannels = 128): string[] {
  const readers = m.readers();
  const resizeOf = new Map<string, Node>();
  for (const node of m.graph.node) if (isNearestDoubling(m, node) && readers.get(node.output[0]!)?.length === 1) resizeOf.set(node.output[0]!, node);

  const pairs = new Map<Node, Node>();
  for (const node of m.graph.node) {
    const resize = resizeOf.get(node.input[0] ?? '');
    if (resize && (plain3x3Conv(node, m.initializers)?.c ?? 0) >= minInputChannels) pairs.set(resize, node);
  }
  const convs = new Set(pairs.values());
  const nodes: Node[] = [];
  const rewritten: string[] = [];
  for (const node of m.graph.node) {
    if (convs.has(node)) continue;
    const conv = pairs.get(node);
    if (!conv) {
      nodes.push(node);
      continue;
    }
    // The conv's place is the Resize's: the phases read the Resize's input, available there.
    const { k, c } = plain3x3Conv(conv, m.initializers)!;
    const [, wName, bName] = conv.input as [string, string, string | undefined];
    const op = nodeWriter(nodes, `${conv.name}/Phases`);
    // The phase kernels are computed from the 3x3 weights in the graph, from constants only, so
    // onnxruntime folds them into weights when the session loads: no JS pass over the weights and
    // none inline in the rewritten graph (SD 1.5's UNet: 1.2 s and 236 MB less per load).
    const taps = op('Reshape', [wName, m.i64('subpixel.shape.taps', [-1, 9])]);
    const phases = PHASES.map(([a, b]) => {
      const summed = op('MatMul', [taps, m.f32(`subpixel.phase${a}${b}.taps`, [9, 4], phaseTaps(a, b))]);
      const kernel = op('Reshape', [summed, m.i64(`subpixel.shape.k${k}.c${c}`, [k, c, 2, 2])]);
      // Phase a reads rows i-1, i (a = 0) or i, i+1 (a = 1): pad before for 0, after for 1.
      const attributes = [ints('kernel_shape', [2, 2]), ints('pads', [1 - a, 1 - b, a, b])];
      return op('Conv', bName ? [node.input[0]!, kernel, bName] : [node.input[0]!, kernel], attributes);
    });
    op('DepthToSpace', [op('Concat', phases, [int('axis', 1)])], [int('blocksize', 2), str('mode', 'DCR')], conv.output[0]!);
    rewritten.push(conv.name);
  }
  m.graph.node = nodes;
  // The 3x3 weights and the Resize's scales go unless another node reads them (onnxruntime warns of unused ones).
  if (rewritten.length > 0) m.removeDeadNodes();
  return rewritten;
}

/**
 * A Resize that doubles height and width by nearest neighbour, picking source pixel floor(x / 2):
 * "asymmetric" coordinates with floor or round_prefer_floor (x/2 lands on .0 or .5), or
 * "half_pixel" with either rounding (x/2 - 0.25 never lands on .5), as torch and our builder export it.
 */
function isNearestDoubling(m: EditableModel, node: Node): boolean {
  if (node.opType !== 'Resize' || (node.domain ?? '') !== '' || node.input.length !== 3) return false;
  if ((attrString(node, 'mode') ?? 'nearest') !== 'nearest' || node.attribute.some((a) => a.name === 'axes' || a.name === 'antialias')) return false;
  const scales = m.floatConstant(node.input[2]!);
  if (!scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 || scales[2] !== 2 || scales[3] !== 2) return false;
  const coordinates = attrString(node, 'coordinate_transformation_mode') ?? 'half_pixel';
  const rounding = attrString(node, 'nearest_mode') ?? 'round_prefer_floor';
  if (coordinates === 'asymmetric') return rounding === 'floor' || rounding === 'round_prefer_floor';
  if (coordinates === 'half_pixel' || coordinates === 'pytorch_half_pixel') return rounding === 'round_prefer_floor' || rounding === 'round_prefer_ceil';
  return false;
}

/** Taps of a 3x3 kernel row (or column) that land on each of a phase's two source rows. */
const TAPS_OF = [
  [[0], [1, 2]],
  [[0, 1], [2]],
] as const;

/** [9, 4] of 0 and 1: which 3x3 taps (row-major) sum into each 2x2 tap of output phase (a, b). */
function phaseTaps(a: 0 | 1, b: 0 | 1): Float32Array {
  const out = new Float32Array(9 * 4);
  for (let r = 0; r < 2; r++) {
    for (let q = 0; q < 2; q++) {
      for (const tr of TAPS_OF[a][r]!) for (const tc of TAPS_OF[b][q]!) out[(tr * 3 + tc) * 4 + r * 2 + q] = 1;
    }
  }
  return out;
}
