import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { AutoTunerCallback } from '../callbacks/auto-tuner';
import { LearningRateScheduleCallback } from '../callbacks/learning-rate-schedule';
import { MaskUpdaterCallback } from '../callbacks/mask-updater-callback';
import { NanGuardCallback } from '../callbacks/nan-guard';
import { SnapshotVoterCallback } from '../callbacks/snapshot-voter';
import type { MoonOptions } from '../config/options';
import { maskScheduleOf, resolveSettings, type MoonSettings } from '../config/settings';
import { MoonConfigError } from '../core/errors';
import type { MoonEventBus } from '../core/events';
import type { MaskSchedule } from '../core/types';
import { applyKitCheckpoint, checkpointMasks, type LoadedCheckpoint } from '../plugins/checkpoint/kit-checkpoint';
import { LEGACY_RUN } from '../plugins/checkpoint/checkpoint-files';
import { FitPhase } from '../plugins/fit/fit-phase';
import { NonFiniteLossWatch } from '../plugins/fit/loss-watch';
import { LossStallWatch } from '../plugins/fit/loss-stall';
import { LossStallCallback } from '../callbacks/loss-stall-warning';
import { MaskUpdater } from '../plugins/masks/mask-updater';
import { checkInitialMasks } from '../plugins/masks/init-warning';
import { fewWeightsWarning, layersLeftDenseWarning, noMaskUpdateWarning, reportMaskWarning, unmaskableLayers } from '../plugins/masks/mask-warnings';
import { GradualPruning } from '../plugins/masks/gradual-pruning';
import { initialMasks, planActiveCounts } from '../plugins/masks/initial-masks';
import { MaskSet, type InitialMask } from '../plugins/masks/mask-set';
import { scaleToSparseFanIn } from '../plugins/masks/sparse-init';
import type { MaskableKernel } from '../core/maskable-kernels';
import type { DensityDistribution } from '../plugins/distributions/density-distribution';
import { AlphaSchedule } from '../plugins/moon/alpha-schedule';
import { crossEntropyLoss } from '../plugins/moon/cross-entropy-loss';
import { UnknownAwareState, unknownAwareLoss } from '../plugins/moon/unknown-aware-loss';
import { WeightAverage } from '../plugins/moon/weight-average';
import { LearningRateDriver } from '../plugins/optimizer/learning-rate-driver';
import { RandomWeightDrop } from '../plugins/optimizer/random-weight-drop';
import type { RandomSource } from '../plugins/random-source';
import { SparseTraining } from '../plugins/sparse/sparse-training';
import { kitContainer, resolveDistribution, resolveSparsifier } from './kit-container';
import { maskableLayerLookup } from './registry';
import { claimModel, releaseModel } from './live-kits';
import { checkModel, type CheckedModel } from './model-checks';
import { MoonKit, stepsUnmasked } from './moon-kit';
import { identityOf, loadResume } from './resume';
import { TOKENS } from './tokens';

let nextKitId = 1;

/**
 * Creates a kit for `model`: draws the initial masks (which zero the masked weights at once) and builds the optimizer
 * wrapper, the callbacks (mask updater; for an unknown-aware kit also the auto-tuner and the voter; the learning-rate
 * schedule unless `lr: false`), the loss and the event bus, composed in a tsyringe child container of
 * `options.container` (or of the global container). Every option is checked, and every strategy name resolved,
 * before any weight is touched.
 *
 * @example
 * const kit = createMoon({ model, numClasses: 10, epochs: 30, stepsPerEpoch: 469, sparsity: 0.9 });
 * model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.1, 0.9)), loss: kit.loss, metrics: ['accuracy'] });
 * await model.fit(xs, kit.labels(ys), { epochs: 30, batchSize: 128, callbacks: [...kit.callbacks] });
 * await kit.finalize(xs);
 */
export function createMoon(options: MoonOptions): MoonKit {
  if (options === null || typeof options !== 'object') {
    throw new MoonConfigError('createMoon needs an options object: createMoon({ model, numClasses, epochs, stepsPerEpoch })');
  }
  if (!(options.model instanceof tf.LayersModel)) {
    throw new MoonConfigError('options.model must be a tf.LayersModel (tf.sequential(…) or tf.model(…)), built with an inputShape');
  }
  const settings = resolveSettings(options);
  const container = kitContainer(options.container, settings.seed);
  const strategies = {
    sparsifier: resolveSparsifier(settings.sparsifier, container, options.container),
    distribution: resolveDistribution(settings.distribution, container, options.container),
  };
  const checked = checkModel(options.model, options, settings.mask, settings.numClasses, settings.unknownAware, maskableLayerLookup(container));
  const resume = options.resumeFrom === undefined ? undefined : loadResume(options.resumeFrom, options.model, settings, checked.kernels);
  // Nothing has been touched so far; from here on the kit is built.
  const id = nextKitId++;
  claimModel(options.model, id);
  try {
    return assembleKit(id, options.model, settings, container, strategies, checked, resume);
  } catch (err) {
    releaseModel(options.model, id);
    throw err;
  }
}

/**
 * Active counts per layer at the start. Gradual pruning starts from its initial sparsity (the distribution's
 * spread), raised where a layer's final count (`finalCounts`: per-layer targets included) is denser, so that every
 * final count is reachable by pruning alone; otherwise the final counts themselves.
 */
function startCounts(kernels: MaskableKernel[], settings: MoonSettings, distribution: DensityDistribution, finalCounts: readonly number[]): number[] {
  if (!settings.prune) return [...finalCounts];
  return planActiveCounts(kernels, distribution, 1 - settings.prune.initialSparsity).map((c, i) => Math.max(c, finalCounts[i]));
}

/**
 * The initial masks (init as configured) with `counts` active weights per layer. With random masks left at the
 * default, a model whose kernels already hold exact zeros, or that was trained in this process, gets a
 * `mask:warning` (computed now, before the masks zero anything; read and emitted asynchronously; printed when
 * nobody listens).
 */
function startMasks(model: tf.LayersModel, kernels: MaskableKernel[], settings: MoonSettings, counts: number[], random: RandomSource, events: MoonEventBus): InitialMask[] {
  const { init, initGiven } = settings.mask;
  if (init === 'random' && !initGiven) {
    void checkInitialMasks(model, kernels).then((warning) => warning && reportMaskWarning(events, warning), () => undefined);
  }
  return initialMasks(kernels, counts, init, random);
}

/**
 * The warnings about a run that would do less than asked, each a `mask:warning` (or one console line): layers
 * left with fewer weights than units, layers the kit cannot mask, a dynamic sparsifier with no update planned.
 */
function reportPlanWarnings(
  model: tf.LayersModel,
  kernels: MaskableKernel[],
  settings: MoonSettings,
  plan: { masks: MaskSet; maskable: readonly MaskableKernel[]; finalCounts: readonly number[]; schedule: MaskSchedule; changesMasks: boolean },
  events: MoonEventBus,
): void {
  const { masks, finalCounts, schedule, changesMasks } = plan;
  const sparsifier = typeof settings.sparsifier === 'string' ? settings.sparsifier : `${settings.sparsifier.drop}/${settings.sparsifier.grow}`;
  const warnings = [
    fewWeightsWarning(kernels, finalCounts),
    layersLeftDenseWarning(unmaskableLayers(model, plan.maskable), masks.modelDensity(model), masks.density()),
    changesMasks && settings.sparsity > 0 ? noMaskUpdateWarning(kernels, schedule, settings.epochs * settings.stepsPerEpoch, sparsifier) : undefined,
  ];
  for (const warning of warnings) if (warning) reportMaskWarning(events, warning);
}

/** Builds the kit's parts (each owning its state), its callbacks (which only schedule them) and the kit. */
function assembleKit(
  id: number,
  model: tf.LayersModel,
  settings: MoonSettings,
  container: DependencyContainer,
  strategies: { sparsifier: ReturnType<typeof resolveSparsifier>; distribution: ReturnType<typeof resolveDistribution> },
  { kernels, maskable, output }: CheckedModel,
  resume: LoadedCheckpoint | undefined,
): MoonKit {
  const random = container.resolve<RandomSource>(TOKENS.RandomSource);
  const events = container.resolve<MoonEventBus>(TOKENS.EventBus);
  const unmasked = settings.randomMaskDpnum > 0 ? kernels.map((k) => k.variable.clone()) : [];
  const finalCounts = planActiveCounts(kernels, strategies.distribution, 1 - settings.sparsity, settings.mask.layerSparsity);
  const masks = new MaskSet(
    kernels,
    resume ? checkpointMasks(resume) : startMasks(model, kernels, settings, startCounts(kernels, settings, strategies.distribution, finalCounts), random, events),
  );
  masks.applyToWeights();
  // Fresh random weights keep the scale their initializer meant: rescaled to each unit's sparse fan-in.
  if (!resume && settings.mask.init === 'random' && !settings.prune && settings.mask.initScale === 'sparse-fan-in') scaleToSparseFanIn(masks.entries);
  const weightDrop = settings.randomMaskDpnum > 0 ? new RandomWeightDrop(masks, settings.randomMaskDpnum, random, unmasked) : undefined;
  const schedule = maskScheduleOf(settings);
  const updater = new MaskUpdater(masks, strategies.sparsifier, schedule, random, events, settings.mask.tieBreak);
  reportPlanWarnings(model, kernels, settings, { masks, maskable, finalCounts, schedule, changesMasks: updater.changesMasks }, events);
  const phase = new FitPhase();
  const lossWatch = new NonFiniteLossWatch();
  const lossStall = new LossStallWatch(settings.numClasses === 1 ? 2 : settings.unknownAware ? settings.numClasses + 1 : settings.numClasses);
  const lossState = settings.tuner ? new UnknownAwareState(settings.tuner.ewmaMomentum, phase) : undefined;
  const alphaSchedule = settings.tuner && lossState ? new AlphaSchedule(lossState, settings.tuner) : undefined;
  const weightAverage = settings.voter ? new WeightAverage(masks, settings.voter.firstEpoch) : undefined;
  const pruning = settings.prune
    ? new GradualPruning(masks, settings.prune, finalCounts, events)
    : undefined;

  const sparseTraining = settings.kernels === 'dense' ? undefined : new SparseTraining(
    masks,
    settings.kernels,
    // Compact optimizer steps need the masked step; the random weight drop rewrites whole kernels every step.
    weightDrop === undefined && !stepsUnmasked(settings.sparsity, updater.changesMasks, false),
  );
  const callbacks: tf.Callback[] = [
    new NanGuardCallback(lossWatch),
    new MaskUpdaterCallback(id, masks, updater, events, phase, { epochs: settings.epochs, stepsPerEpoch: settings.stepsPerEpoch }, pruning, sparseTraining),
  ];
  if (alphaSchedule) callbacks.push(new AutoTunerCallback(alphaSchedule, events));
  if (settings.lr) callbacks.push(new LearningRateScheduleCallback(new LearningRateDriver(settings.lr), events));
  if (weightAverage && settings.voter) callbacks.push(new SnapshotVoterCallback(settings.voter, weightAverage, events));
  callbacks.push(new LossStallCallback(lossStall, settings.stepsPerEpoch, events));

  // A fresh run gets an id of its own (not from the seeded source: it must not shift the random stream).
  const run = resume ? (resume.manifest.run ?? LEGACY_RUN) : `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const checkpointParts = { model, identity: identityOf(settings), run, masks, random, lossState, alphaSchedule, weightAverage, weightDrop, pruning };
  if (resume) phase.holdOptimizerState(applyKitCheckpoint(resume, checkpointParts), resume.nextEpoch);
  const k = settings.numClasses;
  return new MoonKit({
    id, model, settings, output, container, events, masks, updater, phase, lossWatch, lossStall, lossState, alphaSchedule, weightAverage, weightDrop,
    sparseTraining, callbacks, checkpointParts,
    loss: lossState ? unknownAwareLoss(k, output.kind, lossState, settings.lossVariant) : crossEntropyLoss(output.kind, k === 1),
    resumeEpoch: resume?.nextEpoch ?? 0,
  });
}
