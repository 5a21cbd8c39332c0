/**
 * Sparse training steps against the best dense step we ship (issue #24's targets): `model.fit` of 784 → hidden… → 10
 * ReLU MLPs on wasm with `registerWasmTrainingKernels({ speedups: true })`, dense (plain model, momentum SGD) against
 * the same model in a kit with static masks at each sparsity and `kernels: 'sparse'`, all in one process, the arms
 * interleaved repetition by repetition (the first repetition is a warm-up). A step's time is an epoch of `steps`
 * batches of 64 divided by `steps` (fit's batch slicing included, as a user has it).
 *
 * Then the cost of one RigL mask update of the widest model, end to end in `fit` (the sparsifier with its random
 * tie-break, the commit, the layouts rebuilt), in training steps of that model: the update step's time minus the
 * median step, over the median step.
 *
 *   npm run bench:sparse-step                                   # LeNet-300-100, 1024², 4096² at 90 / 95 / 98%
 *   npm run bench:sparse-step -- --models 300x100 --reps 5
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createMoon, registerWasmTrainingKernels } from '../src';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const models = option('models', '300x100,1024x1024,4096x4096').split(',').map((m) => m.split('x').map(Number));
const sparsities = option('sparsities', '0.9,0.95,0.98').split(',').map(Number);
const reps = Number(option('reps', '4'));
const steps = Number(option('steps', '20'));
const batchSize = 64;
/** Read before the wasm backend starts: its Emscripten glue rewrites process.argv. */
const commandLine = `npm run bench:sparse-step -- ${process.argv.slice(2).join(' ')}`.trim();

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: readonly number[]) => [Math.min(...xs), Math.max(...xs)].map((v) => +v.toFixed(3));

function mlp(hidden: readonly number[], seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      ...hidden.map((units, i) => tf.layers.dense({ ...(i === 0 ? { inputShape: [784] } : {}), units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }) })),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 9 }) }),
    ],
  });
}

/** A compiled model and how to run one epoch of it (with its kit's callbacks, if any). */
interface Arm {
  name: string;
  /** Epoch `e` (0-based) of the run: a kit's schedules count the epochs. */
  epoch(e: number): Promise<unknown>;
  dispose(): void;
}

function denseArm(hidden: readonly number[], x: tf.Tensor, y: tf.Tensor): Arm {
  const model = mlp(hidden, 1);
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
  return { name: 'dense', epoch: (e) => model.fit(x, y, { batchSize, initialEpoch: e, epochs: e + 1, shuffle: false, verbose: 0 }), dispose: () => model.dispose() };
}

function sparseArm(hidden: readonly number[], sparsity: number, x: tf.Tensor, y: tf.Tensor): Arm {
  const model = mlp(hidden, 1);
  const kit = createMoon({ model, numClasses: 10, epochs: reps + 1, stepsPerEpoch: steps, sparsity, sparsifier: 'static', seed: 1, unknownAware: false, voter: false, kernels: 'sparse' });
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.01, 0.9)), loss: 'categoricalCrossentropy' });
  return { name: `sparse ${sparsity}`, epoch: (e) => model.fit(x, y, { batchSize, initialEpoch: e, epochs: e + 1, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] }), dispose: () => (kit.dispose(), model.dispose()) };
}

/**
 * One RigL update of `hidden` at 90% in `fit`, in training steps: (the update step's time − the median step) / the
 * median step, over the updates after a warm-up epoch. A step's time runs from its onBatchBegin to the next one, so it
 * includes the mask updater's work at the end of the step.
 */
async function riglUpdateInSteps(hidden: readonly number[], x: tf.Tensor, y: tf.Tensor, tieBreak: 'random' | 'index'): Promise<{ tieBreak: string; stepMs: number; updateMs: number; inSteps: number; updates: number }> {
  const model = mlp(hidden, 1);
  const epochs = 3;
  const interval = Math.max(2, Math.floor(steps / 2)); // two updates per epoch
  const kit = createMoon({ model, numClasses: 10, epochs, stepsPerEpoch: steps, sparsity: 0.9, sparsifier: 'rigl', seed: 1, unknownAware: false, voter: false, kernels: 'sparse', mask: { interval, tieBreak, endStep: epochs * steps } });
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.01, 0.9)), loss: 'categoricalCrossentropy' });
  let step = 0;
  const updateSteps = new Set<number>();
  kit.events.on('mask:update', () => void updateSteps.add(step));
  const starts = new Map<number, number>();
  const timer = new tf.CustomCallback({ onBatchBegin: async () => void starts.set(++step, performance.now()), onTrainEnd: async () => void starts.set(step + 1, performance.now()) });
  for (let epoch = 0; epoch < epochs; epoch++) {
    // The timer after the kit's callbacks: a step's time ends at the next onBatchBegin, after the mask updater ran.
    await model.fit(x, y, { batchSize, epochs: epoch + 1, initialEpoch: epoch, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, timer] });
  }
  kit.dispose();
  model.dispose();
  const timed = [...starts.keys()].filter((s) => s > steps && starts.has(s + 1) && (s - 1) % steps !== 0); // not the warm-up epoch, not an epoch's first step
  const duration = (s: number) => starts.get(s + 1)! - starts.get(s)!;
  const stepMs = median(timed.filter((s) => !updateSteps.has(s)).map(duration));
  const updates = timed.filter((s) => updateSteps.has(s));
  const updateMs = median(updates.map(duration)) - stepMs;
  return { tieBreak, stepMs: +stepMs.toFixed(1), updateMs: +updateMs.toFixed(1), inSteps: +(updateMs / stepMs).toFixed(2), updates: updates.length };
}

(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmTrainingKernels({ speedups: true });
  const x = tf.randomNormal([steps * batchSize, 784], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: steps * batchSize }, (_, i) => i % 10), 'int32'), 10).toFloat();
  const rows: Record<string, unknown>[] = [];
  for (const hidden of models) {
    const arms = [denseArm(hidden, x, y), ...sparsities.map((s) => sparseArm(hidden, s, x, y))];
    const seconds = new Map(arms.map((a) => [a.name, [] as number[]]));
    for (let r = 0; r < reps + 1; r++) {
      for (const arm of arms) {
        const t = performance.now();
        await arm.epoch(r);
        if (r > 0) seconds.get(arm.name)!.push((performance.now() - t) / 1000);
      }
    }
    const dense = seconds.get('dense')!;
    for (const arm of arms.slice(1)) {
      const ratios = seconds.get(arm.name)!.map((s, i) => s / dense[i]);
      rows.push({ model: `784-${hidden.join('-')}-10`, arm: arm.name, denseStepMs: +((1000 * median(dense)) / steps).toFixed(2), sparseStepMs: +((1000 * median(seconds.get(arm.name)!)) / steps).toFixed(2), ratio: +median(ratios).toFixed(3), ratioRange: range(ratios) });
      console.error(JSON.stringify(rows.at(-1)));
    }
    arms.forEach((a) => a.dispose());
  }
  const widest = models[models.length - 1];
  const rigl = [];
  for (const tieBreak of ['random', 'index'] as const) {
    rigl.push({ model: `784-${widest.join('-')}-10`, weights: [784, ...widest, 10].reduce((s, d, i, a) => s + (i > 0 ? a[i - 1] * d : 0), 0), ...(await riglUpdateInSteps(widest, x, y, tieBreak)) });
    console.error(JSON.stringify(rigl.at(-1)));
  }
  tf.dispose([x, y]);
  const result = {
    command: commandLine,
    date: new Date().toISOString().slice(0, 10), backend: 'wasm (speedups)', tfjs: tf.version.tfjs, node: process.version,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`, batchSize, steps, reps, rows, rigl,
  };
  const file = path.join(__dirname, 'results', 'sparse-step-wasm.json');
  fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  console.log(file);
})();
