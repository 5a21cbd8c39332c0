/**
 * tfjs-moon: unknown-aware sparse training for TensorFlow.js. This file is the public API and nothing else; the
 * layers below it are described in docs/architecture.md.
 * @packageDocumentation
 */
import 'reflect-metadata';

// The kit: create one per model, pass its pieces to compile and fit.
export { createMoon } from './kit/create-moon';
export { MoonKit, type MoonLoss } from './kit/moon-kit';
export type { MoonSettings } from './config/settings';
export { PRESET_DEFAULTS, type PresetDefaults } from './config/presets';
export type {
  MoonOptions, MaskOptions, MaskableLayerInfo, Preset, SparsifierChoice, PruneOptions, TunerOptions, LearningRateOptions, VoterOptions,
} from './config/options';

// Extension points (docs/architecture.md): named strategies in tsyringe containers, scores, DI tokens.
export { registerSparsifier, registerDistribution, registerDropCriterion, registerGrowCriterion, registerMaskableLayer, maskableLayerLookup, type Constructor } from './kit/registry';
export { BUILTIN_MASKABLE_LAYERS, type MaskableLayerSpec, type MaskableLayerLookup, type UnitAxes, type AppliedAt } from './core/maskable-layers';
export { TOKENS } from './kit/tokens';
export { BUILTIN_STRATEGIES } from './kit/builtins';
export type { Sparsifier, MaskUpdateContext, TieOrder } from './plugins/sparsifiers/sparsifier';
export type { DropCriterion, GrowCriterion } from './plugins/sparsifiers/criteria';
export { PruneAndGrowSparsifier } from './plugins/sparsifiers/prune-and-grow';
export { RigLSparsifier } from './plugins/sparsifiers/rigl';
export { SETSparsifier } from './plugins/sparsifiers/set';
export { StaticSparsifier } from './plugins/sparsifiers/static';
export { MagnitudeDrop } from './plugins/sparsifiers/drop-criteria';
export { GradientGrow, RandomGrow } from './plugins/sparsifiers/grow-criteria';
export { topKMask, dropSmallestMagnitude, dropLowestScores, growLargestScores, intoTieOrder, fromTieOrder } from './plugins/sparsifiers/mask-ops';
export { topKMaskAsync } from './plugins/sparsifiers/device-top-k';
export type { DensityDistribution, LayerShape } from './plugins/distributions/density-distribution';
export { UniformDistribution } from './plugins/distributions/uniform';
export { ErdosRenyiDistribution, ErdosRenyiKernelDistribution } from './plugins/distributions/erdos-renyi';
export { SeededRandom, randomPermutation, type RandomSource } from './plugins/random-source';
export type { MaskInit, LayerSparsityTargets } from './plugins/masks/initial-masks';

// Errors, events and the domain's types.
export {
  MoonError, MoonConfigError, MoonRegistryError, MoonModelError, MoonOptimizerError, MoonMaskError, MoonMetricError, MoonCheckpointError,
  MoonTrainingError,
} from './core/errors';
export {
  MoonEventBus, type MoonEventMap, type MaskInitEvent, type MaskUpdateEvent, type LayerMaskInfo, type ReliabilityEpochEvent,
  type OodMetricValues, type MaskWarningEvent, type InitialWeightsWarning, type LayerPlanWarning, type MaskPruneEvent, type TunerAlphaEvent, type LearningRateEvent, type VoterSnapshotEvent, type VoterFinalizeEvent,
} from './core/events';
export type {
  OutputKind, OutputSource, MaskSchedule, DropFractionDecay, MaskUpdatePhase, DropRounding, TieBreak, InitScale, TunerSettings, VoterSettings, SnapshotRule, FinalizeData, LearningRateSchedule,
  LearningRateScheduleInput, PruneSchedule,
} from './core/types';

// Pure schedules.
export { dropCountAt, dropFractionAt, isMaskUpdateStep } from './plugins/schedules/drop-fraction';
export { learningRateMultiplier } from './plugins/schedules/learning-rate';
export { isSnapshotBatch } from './plugins/schedules/snapshots';
export { isPruneStep, prunedCount } from './plugins/schedules/pruning';

// What the kit hands to fit, as types: create them through the kit (kit.optimizer, kit.callbacks, kit.checkpointCallback).
export type { MaskedOptimizer } from './plugins/optimizer/masked-optimizer';
export type { OptimizerName } from './plugins/optimizer/optimizer-names';
export type { MaskUpdaterCallback } from './callbacks/mask-updater-callback';
export type { AutoTunerCallback } from './callbacks/auto-tuner';
export type { LearningRateScheduleCallback } from './callbacks/learning-rate-schedule';
export type { SnapshotVoterCallback } from './callbacks/snapshot-voter';
export type { NanGuardCallback } from './callbacks/nan-guard';
export type { CheckpointCallback, CheckpointOptions } from './callbacks/checkpoint-callback';
export type { CustomLoop, LoopStep } from './plugins/fit/custom-loop';

// Reliability: the monitor, scores, metrics.
export { ReliabilityMonitor, type ReliabilityMonitorOptions } from './callbacks/reliability-monitor';
export {
  mspScore, energyScore, maxLogitScore, knownMassScore, mspScoreAsync, energyScoreAsync, maxLogitScoreAsync, knownMassScoreAsync,
  unknownScore, unknownScoreAsync, probabilitiesFrom, registerScore, scoreByName, scoreByNameAsync, scoreToken,
  type ScoreOptions, type ScoreName, type BuiltinScoreName, type Score, type AsyncScore, type ScoreForms, type ScoreContainer,
} from './metrics/scores';
export { auroc, aupr, fprAtTpr, oodAcceptedAtIdTpr, idRejectedAtOodTpr, oodMetrics, rocCurve, prCurve, type RocCurve, type PrCurve, type OodMetrics, type PositiveClass, type RocPoints, type FprOptions } from './metrics/ood-metrics';
export { expectedCalibrationError, expectedCalibrationErrorAsync, accuracy, accuracyAsync, type EceOptions, type ConfidenceInput, type ProbabilityInput } from './metrics/calibration';
export { sparsityReport, sparsityReportAsync, type SparsityReport, type LayerSparsity, type MaskedModel, type SparsityReportOptions } from './metrics/sparsity-report';

// Summaries: TensorBoard (Node, with tfjs-node) and tfjs-vis (browser).
export { ScalarSummaryCallback, tensorBoardSummaries, visSummaries, type ScalarWriter, type TfVis, type SummaryScalar } from './callbacks/summaries';
export { forwardEventsAsScalars } from './plugins/summaries/summary-series';

// Models, export and backends.
export { addUnknownHead, padUnknownColumn } from './plugins/moon/unknown-head';
export { LOSS_VARIANTS, type LossVariant } from './plugins/moon/unknown-aware-loss';
export { exportSparse, loadSparse, sizeReport, type SizeReport, type LoadSparseOptions } from './plugins/export/sparse-export';
export { fileSystem } from './plugins/export/file-handler';
// Sparse inference: compiled WebAssembly SIMD kernels on cpu and wasm.
export { SparseDense, type SparseDenseArgs } from './plugins/sparse/sparse-dense-layer';
export { sparseDense, registerSparseKernels, sparseKernelsServe, SPARSE_DENSE_KERNELS, type CompressedColumns, type FusedActivation } from './plugins/sparse/sparse-dense-op';
export { SPARSE_CROSSOVER_DENSITY, type KernelChoice } from './plugins/sparse/sparse-conversion';
export { probeSparseSpeed, probeResults, PROBE_BATCHES, PROBE_MARGIN, type ProbeResult, type ProbeUse } from './plugins/sparse/speed-probe';
export { compileSparseKernels } from './plugins/sparse/kernel-module';
export { registerWasmTrainingKernels, type WasmKernelOptions } from './plugins/backends/wasm-training-kernels';
export { DETECTORS, RECOMMENDED_DETECTOR, fitDetector, loadDetector, registerDetector, tuneDetector } from './kit/detectors';
export { gridSettings, type DetectorGrid, type DetectorTrial, type DetectorTuning, type TuneDetectorOptions } from './plugins/detectors/tune-detector';
export { Detector, type DetectorJSON, type DetectorOptions, type DetectorPrediction } from './plugins/detectors/detector';
export type { FitDetectorOptions } from './plugins/detectors/fit-detector';
export type { DetectorMethod, DetectorBatch, DetectorHead, DetectorFitData, DetectorState } from './metrics/detectors/detector-method';
