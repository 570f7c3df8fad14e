// GEGLU's projection as two halves against the chunked projection it replaces: the tiny fixture's
// UNet (torch's chunk exported as two Slices with bounds computed from the shape), the Split form
// built here, and chunks that must stay as they are.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { firstOutput, floatData, runOnce, seeded } from '../../../test/small-models.ts';
import { GraphBuilder } from '../../graph/graph-builder.ts';
import { writeOnnxModel } from '../../graph/write-onnx.ts';
import { ort } from '../ort.ts';
import { DataType } from '../proto/onnx-schema.ts';
import { EditableModel } from './editable-model.ts';
import { splitGegluProjections } from './geglu-halves.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-geglu-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the exported tiny UNet: every feed-forward projection in halves, the same prediction to the bit', async () => {
  const path = join(TINY_SD15(), 'unet', 'model.onnx');
  const m = await EditableModel.fromFile(path);
  const projections = m.graph.node.filter((n) => n.opType === 'MatMul' && n.name.endsWith('/ff/net.0/proj/MatMul')).map((n) => n.name);
  assert.ok(projections.length >= 4);
  const initializersBefore = new Set(m.initializers.keys());
  assert.deepEqual(splitGegluProjections(m), projections);
  assert.equal(m.graph.node.filter((n) => n.name.endsWith('/ff/net.0/Slice')).length, 0, 'the chunk Slices are gone');
  // The halves are Slices of the original weights, folded by onnxruntime: only int64 bounds are new.
  const added = [...m.initializers.values()].filter((t) => !initializersBefore.has(t.name));
  assert.ok(added.length > 0 && added.every((t) => t.dataType === DataType.INT64), added.map((t) => t.name).join(', '));
  const width = 32;
  const feeds = {
    sample: new ort.Tensor('float32', seeded(2 * 4 * 8 * 16, 3, 2), [2, 4, 8, 16]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(759n), [1]),
    encoder_hidden_states: new ort.Tensor('float32', seeded(2 * 77 * width, 4, 2), [2, 77, width]),
  };
  assert.deepEqual(await firstOutput(m.encode(), feeds), await firstOutput(path, feeds));
});

interface ChunkOptions {
  axis?: number;
  sizes?: [number, number];
  /** Also read the projection elsewhere (then it must stay). */
  readElsewhere?: boolean;
}

/** x [1, n, 8] -> MatMul [8, 12] + bias -> Split -> value * gelu(gate) (erf form, as torch exports it). */
function gegluModel(name: string, o: ChunkOptions = {}): string {
  const g = new GraphBuilder(name);
  const x = g.input('x', 'float32', [1, 'n', 8]);
  const w = g.initializer('proj.weight', 'float32', [8, 12], floatData(seeded(96, 1, 0.8)));
  const b = g.initializer('proj.bias', 'float32', [12], floatData(seeded(12, 2)));
  const projected = g.op('Add', [b, g.op('MatMul', [x, w])]);
  const [value, gate] = g.opMulti('Split', [projected, g.constInt64(o.sizes ?? [6, 6])], { axis: o.axis ?? -1 }, { outputs: 2 }) as [string, string];
  const erf = g.op('Erf', [g.op('Div', [gate, g.constFloat([Math.SQRT2], [])])]);
  const gelu = g.op('Mul', [g.op('Mul', [gate, g.op('Add', [erf, g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
  let y = g.op('Mul', [value, gelu]);
  if (o.readElsewhere) y = g.op('Add', [y, g.op('ReduceMean', [projected], { axes: [-1], keepdims: 1 })]);
  g.output(y, 'y', 'float32', [1, 'n', 6]);
  writeOnnxModel(g.build(), dir, `${name}.onnx`);
  return join(dir, `${name}.onnx`);
}

test('the Split form: two MatMuls of half the columns compute the same tokens', async () => {
  const path = gegluModel('split');
  const m = await EditableModel.fromFile(path);
  assert.equal(splitGegluProjections(m).length, 1);
  assert.deepEqual(m.graph.node.filter((n) => n.opType === 'MatMul').length, 2);
  const x = seeded(5 * 8, 7, 2);
  assert.deepEqual((await runOnce(m.encode(), x, [1, 5, 8])).data, (await runOnce(path, x, [1, 5, 8])).data);
});

test('chunks that are not halves of the last axis, or a projection read elsewhere, stay as they are', async () => {
  const kept: Array<[string, ChunkOptions]> = [
    ['uneven', { sizes: [4, 8] }],
    ['other-axis', { axis: 1 }],
    ['read-elsewhere', { readElsewhere: true }],
  ];
  for (const [name, options] of kept) {
    const m = await EditableModel.fromFile(gegluModel(name, options));
    const before = m.graph.node.map((n) => n.name);
    assert.deepEqual(splitGegluProjections(m), [], name);
    assert.deepEqual(m.graph.node.map((n) => n.name), before, `${name}: the graph is unchanged`);
  }
});
