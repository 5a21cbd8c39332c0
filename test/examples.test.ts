import * as tf from '@tensorflow/tfjs';
import { digitSplits } from '../examples/tfjs-examples/digits';
import { mnistNodeModel, trainMnistNode } from '../examples/tfjs-examples/mnist-node';
import { pretrain, transfer } from '../examples/tfjs-examples/mnist-transfer-cnn';
import { digitTokens, SEQUENCE_LENGTH, sentimentModel, trainSentiment } from '../examples/tfjs-examples/sentiment';

// Issue #22: the three tfjs-examples programs, adapted (examples/tfjs-examples/), run on small data; the full
// budgets are in bench/examples.ts and docs/RESULTS.md.

const quiet = () => jest.spyOn(console, 'warn').mockImplementation(() => undefined);

// On wasm only: these CNNs take seconds per step on the pure-JavaScript cpu backend.
const onWasm = process.env.TFJS_TEST_BACKEND === 'wasm' ? describe : describe.skip;

onWasm('the adapted tfjs-examples programs', () => {
  it('mnist-node: the CNN trains densely, with RigL at 90% and with MOON, each at the density it asks for', async () => {
    const warn = quiet();
    const { train, test } = digitSplits(10, 5);
    const dense = await trainMnistNode({ method: 'dense', seed: 1, epochs: 1, batchSize: 50, train, test });
    const rigl = await trainMnistNode({ method: 'rigl', seed: 1, epochs: 1, batchSize: 50, train, test });
    const moon = await trainMnistNode({ method: 'moon', seed: 1, epochs: 2, batchSize: 50, train, test });
    warn.mockRestore();
    expect([dense.steps, rigl.steps, moon.steps]).toEqual([2, 2, 4]);
    expect(dense.density).toBe(1);
    // 90% of the kernels; biases and the 11th output stay whole: the model's density just above 0.1.
    for (const r of [rigl, moon]) expect(r.density).toBeGreaterThan(0.1);
    for (const r of [rigl, moon]) expect(r.density).toBeLessThan(0.102);
    for (const r of [dense, rigl, moon]) expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(mnistNodeModel(10, 1).countParams()).toBe(594922); // the example's CNN, as tfjs-examples builds it
    tf.dispose([train.images, test.images]);
  });

  it('sentiment: digits become 49 position-level tokens; the Conv1D and LSTM models train, sparse kernels everywhere', async () => {
    const warn = quiet();
    const { train, test } = digitSplits(8, 4);
    const tokens = digitTokens(train.images.slice([0, 0, 0, 0], [2, -1, -1, -1]));
    const values = Array.from(tokens.dataSync());
    expect(tokens.shape).toEqual([2, SEQUENCE_LENGTH]);
    values.forEach((t, i) => expect(Math.floor(t / 16)).toBe(i % SEQUENCE_LENGTH)); // position × 16 + level
    expect(values.every((t) => Number.isInteger(t))).toBe(true);
    const cnn = await trainSentiment({ kind: 'cnn', method: 'rigl', seed: 1, epochs: 1, batchSize: 40, train, test });
    const lstm = await trainSentiment({ kind: 'lstm', method: 'rigl', seed: 1, epochs: 1, batchSize: 40, train, test });
    warn.mockRestore();
    // Embedding, Conv1D, the LSTM's kernel and recurrent kernel are masked too: the whole model sits near 10%.
    expect(cnn.density).toBeLessThan(0.102);
    expect(lstm.density).toBeLessThan(0.11);
    expect([cnn.steps, lstm.steps]).toEqual([2, 2]);
    expect(sentimentModel('lstm', 1).layers.map((l) => l.getClassName())).toEqual(['Embedding', 'LSTM', 'Dense']);
    tf.dispose([tokens, train.images, test.images]);
  });

  it('mnist-transfer-cnn: frozen features carry over to digits 5–9; the kit keeps them dense unless asked', async () => {
    const warn = quiet();
    const low = digitSplits(20, 5, [0, 1, 2, 3, 4]);
    const high = digitSplits(20, 10, [5, 6, 7, 8, 9]);
    const base = await pretrain(low.train, 1, 2, 20);
    const frozenBefore = Array.from(base.layers[0].getWeights()[0].dataSync());
    const dense = await transfer({ base, method: 'dense', seed: 1, epochs: 2, batchSize: 20, train: high.train, test: high.test });
    const rigl = await transfer({ base, method: 'rigl', seed: 1, epochs: 2, batchSize: 20, train: high.train, test: high.test });
    const masked = await transfer({ base, method: 'frozen-masked', seed: 1, epochs: 2, batchSize: 20, train: high.train, test: high.test });
    warn.mockRestore();
    expect(dense.accuracy).toBeGreaterThan(0.4); // chance is 0.2
    // Masking the frozen convolutions too leaves fewer weights: 9,536 of them at 90% instead of whole.
    expect(masked.density).toBeLessThan(rigl.density);
    expect(Array.from(base.layers[0].getWeights()[0].dataSync())).toEqual(frozenBefore); // runs train copies
    base.dispose();
    tf.dispose([low.train.images, low.test.images, high.train.images, high.test.images]);
  });
});
