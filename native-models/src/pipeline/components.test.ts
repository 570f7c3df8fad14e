import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { OnnxSignature } from '../onnx/inspect.ts';
import type { OrtTensor } from '../onnx/ort.ts';
import { checkFeeds, type ModelSession } from '../onnx/session.ts';
import { floatTensor } from '../onnx/tensors.ts';
import { OnnxTextEncoder, OnnxUNet, OnnxVaeDecoder } from './components.ts';

// Graphs exported differently from the fixture (fp16, int64 ids, batch-shaped timesteps) are not
// available offline, so these sessions are stand-ins that declare such a signature, check the feeds
// exactly as a real session does, and record them. The real-session path is covered by pipeline.test.ts.
type Feeds = Record<string, OrtTensor>;
function stubSession(signature: OnnxSignature, outputs: (feeds: Feeds) => Feeds) {
  const seen: Array<Record<string, OrtTensor>> = [];
  const session = {
    label: 'stub.onnx',
    signature,
    provider: { requested: 'cpu', used: 'cpu' },
    async run(feeds: Feeds) {
      checkFeeds('stub.onnx', signature, feeds);
      seen.push(feeds);
      return { outputs: outputs(feeds), ortMs: 1 };
    },
    async release() {},
  } as unknown as ModelSession;
  return { session, seen };
}

const unetSignature = (timestepType: string, timestepShape: Array<number | string>, floatType = 'float32'): OnnxSignature => ({
  inputs: [
    { name: 'sample', type: floatType, shape: ['batch', 4, 'h', 'w'] },
    { name: 'timestep', type: timestepType, shape: timestepShape },
    { name: 'encoder_hidden_states', type: floatType, shape: ['batch', 77, 768] },
  ],
  outputs: [{ name: 'out_sample', type: floatType, shape: ['batch', 4, 'h', 'w'] }],
});

const echoSample = (feeds: Feeds): Feeds => ({ out_sample: feeds.sample! });

test('timestep follows the declared type and shape: [1], [batch] or a scalar', async () => {
  const cases: Array<[string, Array<number | string>, number[], unknown]> = [
    ['int64', ['steps'], [1], BigInt64Array.from([759n])],
    ['int64', ['batch_size'], [2], BigInt64Array.from([759n, 759n])],
    ['float32', [], [], Float32Array.from([759])],
    ['int32', [1], [1], Int32Array.from([759])],
  ];
  for (const [type, shape, dims, data] of cases) {
    const { session, seen } = stubSession(unetSignature(type, shape), echoSample);
    const unet = new OnnxUNet(session);
    await unet.predict(new Float32Array(2 * 4 * 8 * 8), [2, 4, 8, 8], 759, new Float32Array(2 * 77 * 768), [2, 77, 768]);
    const t = seen[0]!.timestep!;
    assert.equal(t.type, type);
    assert.deepEqual([...t.dims], dims);
    assert.deepEqual(t.data, data);
  }
});

test('fp16 graphs get float16 inputs and their outputs come back as float32', async () => {
  const { session, seen } = stubSession(unetSignature('float16', ['steps'], 'float16'), echoSample);
  const unet = new OnnxUNet(session);
  const sample = Float32Array.from({ length: 256 }, (_, i) => i / 8);
  const out = await unet.predict(sample, [1, 4, 8, 8], 999, new Float32Array(77 * 768), [1, 77, 768]);
  assert.equal(seen[0]!.sample!.type, 'float16');
  assert.equal(seen[0]!.timestep!.type, 'float16');
  assert.deepEqual(out.data, sample); // multiples of 1/8 below 32 are exact in float16
});

test('text encoders taking int64 ids get int64; the output named last_hidden_state is used', async () => {
  const signature: OnnxSignature = {
    inputs: [{ name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] }],
    outputs: [
      { name: 'pooler_output', type: 'float32', shape: ['batch', 4] },
      { name: 'last_hidden_state', type: 'float32', shape: ['batch', 'seq', 4] },
    ],
  };
  const { session, seen } = stubSession(signature, () => ({
    pooler_output: floatTensor('float32', new Float32Array(4), [1, 4]),
    last_hidden_state: floatTensor('float32', new Float32Array(77 * 4).fill(2), [1, 77, 4]),
  }));
  const out = await new OnnxTextEncoder(session).encode([new Array(77).fill(49407)]);
  assert.equal(seen[0]!.input_ids!.type, 'int64');
  assert.deepEqual(out.dims, [1, 77, 4]);
  assert.equal(out.data[0], 2);
});

test('graphs with missing or extra inputs are refused with their names', () => {
  const noTimestep: OnnxSignature = { inputs: [unetSignature('int64', [1]).inputs[0]!, unetSignature('int64', [1]).inputs[2]!], outputs: [] };
  assert.throws(() => new OnnxUNet(stubSession(noTimestep, echoSample).session), /expected an input named "timestep"/);
  const sdxl = unetSignature('int64', [1]);
  sdxl.inputs.push({ name: 'text_embeds', type: 'float32', shape: ['batch', 1280] });
  assert.throws(() => new OnnxUNet(stubSession(sdxl, echoSample).session), /unexpected inputs "text_embeds"/);
  const intIds: OnnxSignature = { inputs: [{ name: 'latent_sample', type: 'int32', shape: [1, 4, 8, 8] }], outputs: [{ name: 'sample', type: 'float32', shape: [] }] };
  assert.throws(() => new OnnxVaeDecoder(stubSession(intIds, echoSample).session), /"latent_sample" is int32; expected float32 or float16/);
});

test('a UNet with fixed axes reports them, and the pipeline refuses other sizes up front', async () => {
  const { StableDiffusionPipeline } = await import('./pipeline.ts');
  const { ClipTokenizer } = await import('../tokenizer/clip-tokenizer.ts');
  const { LcmScheduler } = await import('../scheduler/lcm-scheduler.ts');
  const { parseSchedulerConfig } = await import('../scheduler/scheduler-config.ts');
  const { fixturePath } = await import('../../test/fixtures.ts');
  const signature = unetSignature('int64', [1]);
  signature.inputs[0]!.shape = [2, 4, 64, 64];
  const { session, seen } = stubSession(signature, echoSample);
  const unet = new OnnxUNet(session);
  assert.deepEqual(unet.sampleShape, [2, 4, 64, 64]);
  const unused = { provider: unet.provider, release: async () => {} };
  const pipe = new StableDiffusionPipeline({
    tokenizer: ClipTokenizer.fromFolder(fixturePath('tiny-sd15/tokenizer')),
    scheduler: new LcmScheduler(parseSchedulerConfig({})),
    textEncoder: { ...unused, encode: () => Promise.reject(new Error('not reached')) },
    unet,
    vaeDecoder: { ...unused, decode: () => Promise.reject(new Error('not reached')) },
    vaeScalingFactor: 0.18215,
    sizeMultiple: 64,
  });
  await assert.rejects(
    pipe.generate({ prompt: 'x', width: 768, height: 512, guidance: 2 }),
    /exported for samples of shape \[2, 4, 64, 64\] only; 768x512 needs \[2, 4, 64, 96\]/,
  );
  await assert.rejects(pipe.generate({ prompt: 'x', width: 512, height: 512, guidance: 1 }), /needs \[1, 4, 64, 64\]/);
  assert.equal(seen.length, 0);
});
