import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import {
  accuracyAsync, addUnknownHead, createMoon, expectedCalibrationError, exportSparse, loadSparse, oodMetrics, probabilitiesFrom, randomPermutation, scoreByNameAsync, SeededRandom, type ScoreName, type MoonKit, type OodMetrics,
} from 'tfjs-moon';
import { CliError } from './cli-error';
import { loadExperiment, type Experiment, type ImageSet } from './datasets/datasets';
import { detectorNames, evaluateDetectors, type DetectorFigures } from './detector-evaluation';
import { buildModel, inputShapeOf, type ModelName } from './models';
import { type OptimizerName, type RunConfig } from './run-config';
import { runId } from './run-id';

export { HEADS, METHODS, OPTIMIZERS, RUN_DEFAULTS, SHUFFLE_MODES, type HeadKind, type Method, type OptimizerName, type RunConfig, type ShuffleMode } from './run-config';
export { runId } from './run-id';

/** The inner optimizer of a run. */
export function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  if (name === 'sgd') return tf.train.sgd(learningRate);
  if (name === 'adam') return tf.train.adam(learningRate);
  return tf.train.momentum(learningRate, 0.9, name === 'nesterov');
}

/** The order of the training set in epoch `epoch` of a run seeded `seed`: a Fisher–Yates shuffle, the same on every backend. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return randomPermutation(count, new SeededRandom(seed * 100_003 + epoch + 1));
}

/** What one run produced. */
export interface RunResult {
  id: string;
  config: RunConfig;
  environment: { backend: string; tfjs: string; node: string; machine: string; date: string };
  metrics: {
    /** Argmax over every output (K+1 for MOON: "unknown" counts as wrong). */
    accuracy: number;
    /** Argmax over the K known outputs. */
    accuracyKnown: number;
    ece: number;
    /** OOD metrics of the MSP score (the reference's), per OOD set. */
    ood: Record<string, OodMetrics>;
    /** OOD metrics of every score (msp, energy, max-logit and, for MOON, known-mass = 1 − p(unknown)), per OOD set. */
    oodByScore?: Record<string, Record<string, OodMetrics>>;
    /** MOON runs: the mean probability of the unknown output on the ID test set and on each OOD set. */
    unknownMass?: { id: number; ood: Record<string, number> };
    /** Runs with `detectors`: each post-hoc detector's figures (measured on the evaluation half of the ID test set). */
    detectors?: Record<string, DetectorFigures>;
  };
  density: { global: number; layers: { name: string; shape: readonly number[]; density: number }[] };
  history: { loss: number[]; acc: number[]; alpha: number[] };
  seconds: number;
  secondsPerEpoch: number;
  counts: { train: number; test: number; ood: Record<string, number> };
  notes: readonly string[];
  /** Seeded subsamples (≤ 2,000 per set) for figures: OOD scores and the ID calibration data. */
  samples: { id: number[]; ood: Record<string, number[]>; confidence: number[]; correct: number[] };
}

/**
 * The model a fine-tuning run starts from: a saved model (`--save-model`), with an unknown output added when the run
 * is unknown-aware and the model has K outputs.
 */
async function startingModel(dir: string, k: number, unknownAware: boolean): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await loadSparse(`file://${dir}`);
  } catch (error) {
    throw new CliError(`--from-model ${dir}: ${(error as Error).message}`, 2);
  }
  const width = (model.outputs[0].shape as number[])[1];
  if (unknownAware && width === k) {
    const withHead = addUnknownHead(model);
    model.dispose();
    return withHead;
  }
  if (width !== (unknownAware ? k + 1 : k)) throw new CliError(`--from-model ${dir}: the model has ${width} outputs, expected ${k}${unknownAware ? ` or ${k + 1}` : ''}`, 2);
  return model;
}

/** Tensors of an image set in the model's input layout. */
function inputs(set: ImageSet, model: ModelName): tf.Tensor {
  return tf.tensor(set.x, [set.count, ...inputShapeOf(model)]);
}

/** Up to `max` values of `values` at seeded random positions (the same positions for parallel arrays). */
function subsample(length: number, max: number, seed: number): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const random = new SeededRandom(seed);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(Math.floor(random.next() * length));
  return [...picked].sort((a, b) => a - b);
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;

/** Callbacks a run reports progress to. */
export interface TrainHooks {
  onStart?(info: { config: RunConfig; backend: string; experiment: Experiment; kit: MoonKit; stepsPerEpoch: number }): void;
  onBatch?(info: { epoch: number; batch: number }): void;
  onEpoch?(info: { epoch: number; loss: number; acc: number; alpha: number | undefined; density: number; seconds: number }): void;
  onDetector?(info: { name: string; index: number; count: number }): void;
}

/** Trains one configuration and evaluates accuracy, calibration and OOD detection on its experiment. */
export async function trainRun(config: RunConfig, backend: string, hooks: TrainHooks = {}): Promise<RunResult> {
  const experiment = loadExperiment(config.dataset, { seed: config.seed, dataDir: config.dataDir, trainLimit: config.trainLimit, testLimit: config.testLimit });
  const k = experiment.numClasses;
  const model = config.fromModel ? await startingModel(config.fromModel, k, config.moon) : buildModel(config.model, config.moon ? k + 1 : k, config.seed, config.head);
  const stepsPerEpoch = Math.ceil(experiment.train.count / config.batchSize);
  const dense = config.method === 'dense';
  const kit = createMoon({
    model, numClasses: k, epochs: config.epochs, stepsPerEpoch, seed: config.seed, preset: config.preset,
    unknownAware: config.moon, sparsity: dense ? 0 : config.sparsity, sparsifier: dense ? 'static' : config.method,
    // The baseline trains with the same learning-rate schedule as MOON, so that the comparison isolates MOON.
    lr: true,
    weightDecay: config.weightDecay,
    lossVariant: config.lossVariant,
    kernels: config.kernels,
    ...config.kit,
    // A trained model keeps its largest weights (random masks would zero them at random).
    ...(config.fromModel ? { mask: { init: 'magnitude' as const, ...config.kit?.mask } } : {}),
  });
  const alpha: number[] = [];
  kit.events.on('tuner:alpha', (e) => alpha.push(e.alpha));
  hooks.onStart?.({ config, backend, experiment, kit, stepsPerEpoch });

  const x = inputs(experiment.train, config.model);
  const yK = tf.tidy(() => tf.oneHot(tf.tensor1d(experiment.train.labels, 'int32'), k).toFloat() as tf.Tensor2D);
  const y = kit.labels(yK);
  model.compile({ optimizer: kit.optimizer(makeOptimizer(config.optimizer, config.learningRate)), loss: kit.loss, metrics: ['accuracy'] });
  const started = Date.now();
  const history = { loss: [] as number[], acc: [] as number[] };
  // A tf.Callback subclass gets the raw logs (scalar tensors): reading them once per epoch, not per batch,
  // keeps the device free of per-batch syncs (a tf.CustomCallback would resolve them on every batch).
  const progress = new (class extends tf.Callback {
    override async onBatchEnd(batch: number): Promise<void> {
      hooks.onBatch?.({ epoch: history.loss.length, batch });
    }
    override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
      const value = async (v: unknown) => (v instanceof tf.Tensor ? (await v.data())[0] : Number(v));
      const [loss, acc] = await Promise.all([value(logs?.loss), value(logs?.acc)]);
      history.loss.push(round(loss));
      history.acc.push(round(acc));
      if (!Number.isFinite(loss)) throw new CliError(`the loss became ${loss} at epoch ${epoch + 1}: lower --lr`);
      hooks.onEpoch?.({ epoch, loss, acc, alpha: alpha.at(-1), density: kit.density, seconds: (Date.now() - started) / 1000 });
    }
  })();
  const callbacks = [...kit.callbacks, progress];
  if (config.shuffle === 'once') {
    await model.fit(x, y, { epochs: config.epochs, batchSize: config.batchSize, shuffle: false, verbose: 0, callbacks });
  } else {
    // One fit per epoch on that epoch's seeded order (fit's own shuffle is not seeded, so runs would not repeat).
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const order = tf.tensor1d(epochOrder(experiment.train.count, config.seed, epoch), 'int32');
      const [xe, ye] = [tf.gather(x, order), tf.gather(y, order)];
      await model.fit(xe, ye, { epochs: epoch + 1, initialEpoch: epoch, batchSize: config.batchSize, shuffle: false, verbose: 0, callbacks });
      tf.dispose([order, xe, ye]);
    }
  }
  if (kit.settings.voter) await kit.finalize(x, { refreshBatchNorm: true }); // the voted weights, BatchNorm re-estimated
  const seconds = (Date.now() - started) / 1000;
  if (config.saveModel) await exportSparse(model, `file://${config.saveModel}`);

  const predict = (set: ImageSet) => tf.tidy(() => model.predict(inputs(set, config.model), { batchSize: 512 }) as tf.Tensor2D);
  const idOut = predict(experiment.test);
  // Every read is asynchronous, so the evaluation runs on every backend (WebGPU included).
  // Every score, to see whether the unknown output itself separates the sets (the mechanism MOON relies on).
  const scoreNames: ScoreName[] = ['msp', 'energy', 'max-logit', ...(config.moon ? (['known-mass'] as const) : [])];
  const allScores = async (out: tf.Tensor) => Object.fromEntries(await Promise.all(scoreNames.map(async (s) => [s, await scoreByNameAsync(s)(out, kit)] as const)));
  const idAll = await allScores(idOut);
  // Confidence is the top probability (of a linear head's softmax); the predicted class is the same from either.
  const topStats = tf.tidy(() => tf.stack([tf.max(probabilitiesFrom(idOut, kit.outputKind), 1), tf.cast(tf.argMax(idOut, 1), 'float32')]));
  const stats = await topStats.data();
  topStats.dispose();
  const n = experiment.test.count;
  const confidence = stats.subarray(0, n);
  const correct = Array.from(stats.subarray(n, 2 * n), (p, i) => (p === experiment.test.labels[i] ? 1 : 0));
  const metrics: RunResult['metrics'] = {
    accuracy: await accuracyAsync(idOut, experiment.test.labels, { numClasses: k }),
    accuracyKnown: await accuracyAsync(idOut, experiment.test.labels, { numClasses: k, over: 'K' }),
    ece: expectedCalibrationError({ confidences: confidence, correct }, kit.settings.ece),
    ood: {},
  };
  const picks = subsample(experiment.test.count, 2000, config.seed);
  const samples: RunResult['samples'] = {
    id: picks.map((i) => round(idAll.msp[i])), ood: {},
    confidence: picks.map((i) => round(confidence[i])), correct: picks.map((i) => correct[i]),
  };
  // p(unknown) runs down to 1e-7: four significant digits, not round()'s five decimals.
  const meanUnknown = (knownMass: Float32Array) => Number((knownMass.reduce((s, v) => s + (1 - v), 0) / knownMass.length).toPrecision(4));
  metrics.oodByScore = Object.fromEntries(scoreNames.map((s) => [s, {}]));
  if (config.moon) metrics.unknownMass = { id: meanUnknown(idAll['known-mass']), ood: {} };
  for (const { name, set } of experiment.ood) {
    const out = predict(set);
    const oodAll = await allScores(out);
    out.dispose();
    for (const s of scoreNames) metrics.oodByScore[s][name] = oodMetrics(idAll[s], oodAll[s], { roc: kit.settings.roc });
    metrics.ood[name] = metrics.oodByScore.msp[name];
    if (metrics.unknownMass) metrics.unknownMass.ood[name] = meanUnknown(oodAll['known-mass']);
    samples.ood[name] = subsample(set.count, 2000, config.seed + 1).map((i) => round(oodAll.msp[i]));
  }
  if (config.detectors !== undefined) {
    const names = detectorNames(config.detectors, config.moon);
    const oodSets = experiment.ood.map(({ name, set }) => ({ name, x: inputs(set, config.model) }));
    const data = { train: { x, labels: experiment.train.labels }, test: { x: inputs(experiment.test, config.model), labels: experiment.test.labels }, ood: oodSets };
    try {
      metrics.detectors = await evaluateDetectors(names, model, k, data, { seed: config.seed, roc: kit.settings.roc, onDetector: (name) => hooks.onDetector?.({ name, index: names.indexOf(name), count: names.length }) });
    } finally {
      tf.dispose([data.test.x, ...oodSets.map((s) => s.x)]);
    }
  }
  const result: RunResult = {
    id: runId(config),
    config,
    environment: {
      backend, tfjs: tf.version.tfjs, node: process.version, date: new Date().toISOString().slice(0, 10),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    },
    metrics,
    density: { global: kit.density, layers: kit.masks.map((m) => ({ name: m.name, shape: m.shape, density: m.density })) },
    history: { ...history, alpha },
    seconds,
    secondsPerEpoch: seconds / config.epochs,
    counts: { train: experiment.train.count, test: experiment.test.count, ood: Object.fromEntries(experiment.ood.map((o) => [o.name, o.set.count])) },
    notes: experiment.notes,
    samples,
  };
  tf.dispose([x, yK, y, idOut]);
  model.optimizer.dispose();
  kit.dispose();
  model.dispose();
  return result;
}
