import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { inspectOnnxModel } from './inspect.ts';

test('reads names, element types and dynamic axes from the tiny UNet', async () => {
  const sig = await inspectOnnxModel(fixturePath('tiny-sd15/unet/model.onnx'));
  assert.deepEqual(
    sig.inputs.map((i) => [i.name, i.type]),
    [
      ['sample', 'float32'],
      ['timestep', 'int64'],
      ['encoder_hidden_states', 'float32'],
    ],
  );
  assert.deepEqual(sig.outputs[0]?.shape, ['batch_size', 4, 'height', 'width']);
});
