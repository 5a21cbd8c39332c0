/**
 * One small MOON training run, written once and run both in the browser (the page, on webgl) and in Node (on cpu),
 * so the two can be compared number for number. Everything is deterministic: seeded initializers, data from a
 * formula, the kit's seeded masks, no shuffling.
 */
import type * as TF from '@tensorflow/tfjs';
import type * as Moon from 'tfjs-moon';

export interface ScenarioResult {
  backend: string;
  losses: number[];
  alphas: { epoch: number; alpha: number }[];
  maskUpdates: number;
  /** Planned active counts per masked layer, and the nonzero counts read back from the kernels after finalize. */
  planned: number[];
  nonzero: number[];
  /** Whether every weight off its mask is exactly 0 (after finalize). */
  density: number;
  snapshots: number;
  /** Every weight of the model after finalize, flattened. */
  weights: number[];
  /** Largest |Δ| between the model's predictions and those of the model saved to `storage` and loaded back. */
  roundTrip?: number;
  numTensorsPerEpoch: number[];
}

const SAMPLES = 48;
const FEATURES = 20;

/** Trains the scenario with the `tf` and `moon` modules given (the page's bundle, or Node's). */
export async function trainScenario(tf: typeof TF, moon: typeof Moon, storage?: string): Promise<ScenarioResult> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [FEATURES], units: 32, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  const x = tf.tensor2d(Array.from({ length: SAMPLES * FEATURES }, (_, k) => Math.sin(0.37 * k) + 0.1 * ((k * 7) % 5)), [SAMPLES, FEATURES]);
  const labels = Array.from({ length: SAMPLES }, (_, i) => i % 3);
  const kit = moon.createMoon({
    model, numClasses: 3, epochs: 4, stepsPerEpoch: 6, sparsity: 0.8, seed: 7,
    mask: { interval: 3 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 1 },
  });
  const alphas: { epoch: number; alpha: number }[] = [];
  let maskUpdates = 0;
  let snapshots = 0;
  kit.events.on('tuner:alpha', (e) => alphas.push({ epoch: e.epoch, alpha: e.alpha }));
  kit.events.on('mask:update', () => maskUpdates++);
  kit.events.on('voter:snapshot', () => snapshots++);
  const numTensorsPerEpoch: number[] = [];
  const probe = new tf.CustomCallback({ onEpochEnd: async () => void numTensorsPerEpoch.push(tf.memory().numTensors) });
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
  const y = kit.labels(labels);
  const history = await model.fit(x, y, { epochs: 4, batchSize: 8, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe] });
  await kit.finalize();
  const masked = new Set(kit.maskSummary.map((m) => m.variable));
  const nonzero: number[] = [];
  for (const w of model.weights.filter((v) => masked.has(v.name))) {
    const count = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(w.read(), 0), 'float32')));
    nonzero.push((await count.data())[0]);
    count.dispose();
  }
  const weights: number[] = [];
  for (const w of model.getWeights()) weights.push(...(await w.data()));
  let roundTrip: number | undefined;
  if (storage) {
    await moon.exportSparse(model, storage);
    const loaded = await moon.loadSparse(storage);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x) as TF.Tensor, loaded.predict(x) as TF.Tensor))));
    roundTrip = (await diff.data())[0];
    diff.dispose();
    loaded.dispose();
  }
  const result: ScenarioResult = {
    backend: tf.getBackend(),
    losses: history.history.loss as number[],
    alphas, maskUpdates, snapshots, nonzero, weights, roundTrip, numTensorsPerEpoch,
    planned: kit.maskSummary.map((m) => m.active),
    density: kit.density,
  };
  tf.dispose([x, y]);
  kit.dispose();
  model.dispose();
  return result;
}
