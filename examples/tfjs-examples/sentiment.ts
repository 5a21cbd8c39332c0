/**
 * tfjs-examples' sentiment models (`train.js`: the `cnn` and `lstm` model types), adapted: Embedding → Conv1D →
 * GlobalMaxPool1D → Dense, and Embedding → LSTM → Dense, one sigmoid unit, Adam, trained densely or sparse at 90%
 * from scratch with a kit (RigL; every kernel masked, the embedding table, the convolution and the LSTM's kernel
 * and recurrent kernel included). The IMDB reviews cannot be downloaded here, so the sequences come from real digits:
 * a digit becomes 49 tokens (its 7×7 average-pooled pixels, each quantized to 16 levels; token = position × 16 +
 * level, a vocabulary of 784), and the binary label says whether the digit is 5 or more.
 *   node -r @swc-node/register examples/tfjs-examples/sentiment.ts [cnn|lstm] [dense|rigl] [epochs] [seed]
 */
import * as tf from '@tensorflow/tfjs';
import { createMoon } from 'tfjs-moon';
import { accuracyOf, digitSplits, type Digits } from './digits';

export const SEQUENCE_LENGTH = 49;
export const VOCABULARY = SEQUENCE_LENGTH * 16;

/** A digit as 49 tokens: position × 16 + its 7×7-pooled intensity quantized to 16 levels. */
export function digitTokens(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const pooled = tf.avgPool(images, 4, 4, 'valid').reshape([-1, SEQUENCE_LENGTH]);
    const level = tf.minimum(tf.floor(tf.mul(pooled, 16)), 15);
    return tf.add(level, tf.mul(tf.range(0, SEQUENCE_LENGTH), 16)) as tf.Tensor2D;
  });
}

/** The example's model of `kind`, with seeded initialisers (embedding 128 wide as in the original). */
export function sentimentModel(kind: 'cnn' | 'lstm', seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const embedding = tf.layers.embedding({
    inputDim: VOCABULARY, outputDim: 128, inputLength: SEQUENCE_LENGTH, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 100 }),
  });
  const body =
    kind === 'cnn'
      ? [
          tf.layers.dropout({ rate: 0.2, seed: seed * 100 + 1 }),
          tf.layers.conv1d({ filters: 250, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', kernelInitializer: init(2) }),
          tf.layers.globalMaxPooling1d({}),
          tf.layers.dense({ units: 250, activation: 'relu', kernelInitializer: init(3) }),
        ]
      : [tf.layers.lstm({ units: 32, kernelInitializer: init(2), recurrentInitializer: tf.initializers.orthogonal({ seed: seed * 100 + 3 }) })];
  return tf.sequential({ layers: [embedding, ...body, tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(4) })] });
}

/** One run's options. */
export interface SentimentRun {
  readonly kind: 'cnn' | 'lstm';
  readonly method: 'dense' | 'rigl';
  readonly seed: number;
  readonly epochs: number;
  readonly train: Digits;
  readonly test: Digits;
  readonly batchSize?: number;
}

const isHigh = (id: number) => (id >= 5 ? 1 : 0);

/** Trains the model for `epochs` with `method`; test accuracy of the binary label, density of the whole model. */
export async function trainSentiment(run: SentimentRun): Promise<{ accuracy: number; density: number; steps: number }> {
  const batchSize = run.batchSize ?? 64;
  const stepsPerEpoch = Math.ceil(run.train.ids.length / batchSize);
  const model = sentimentModel(run.kind, run.seed);
  const x = digitTokens(run.train.images);
  const y = tf.tensor2d(Array.from(run.train.ids, isHigh), [run.train.ids.length, 1]);
  const fitArgs = { epochs: run.epochs, batchSize, shuffle: false, verbose: 0 as const };
  let density = 1;
  if (run.method === 'dense') {
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
    await model.fit(x, y, fitArgs);
  } else {
    const kit = createMoon({ model, numClasses: 1, unknownAware: false, epochs: run.epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: run.seed });
    model.compile({ optimizer: kit.optimizer('adam'), loss: kit.loss });
    await model.fit(x, y, { ...fitArgs, callbacks: [...kit.callbacks] });
    density = kit.modelDensity;
    kit.dispose();
  }
  const xTest = digitTokens(run.test.images);
  const accuracy = await accuracyOf(model, xTest, run.test.ids, 1, isHigh);
  tf.dispose([x, y, xTest]);
  model.dispose();
  return { accuracy, density, steps: stepsPerEpoch * run.epochs };
}

async function main(): Promise<void> {
  const [kind = 'cnn', method = 'rigl', epochs = '2', seed = '1'] = process.argv.slice(2);
  const { train, test } = digitSplits(800, 200);
  const result = await trainSentiment({ kind: kind as 'cnn' | 'lstm', method: method as 'dense' | 'rigl', epochs: Number(epochs), seed: Number(seed), train, test });
  console.log(`sentiment ${kind}, ${method}, ${result.steps} steps on ${tf.getBackend()}: test accuracy ${(100 * result.accuracy).toFixed(2)}%, density ${result.density.toFixed(3)}`);
}

if (require.main === module) void main();
