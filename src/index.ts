/**
 * tfjs-moon: unknown-aware sparse training for TensorFlow.js. This file is the public API and nothing else.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { createMoon, type MoonKit, type MoonLoss } from './create-moon';
export type { MoonSettings } from './settings';
export type { MoonOptions, MaskOptions, MaskableLayerInfo, Preset, TunerOptions, LearningRateOptions, VoterOptions } from './options';
export { registerSparsifier, registerDistribution, type Constructor } from './registry';
export { TOKENS } from './tokens';
export {
  MoonError, MoonConfigError, MoonRegistryError, MoonModelError, MoonOptimizerError, MoonMaskError, MoonMetricError, MoonCheckpointError,
  MoonTrainingError,
} from './errors';
export {
  MoonEventBus, type MoonEventMap, type MaskInitEvent, type MaskUpdateEvent, type LayerMaskInfo, type ReliabilityEpochEvent,
  type OodMetricValues, type TunerAlphaEvent, type LearningRateEvent, type VoterSnapshotEvent, type VoterFinalizeEvent,
} from './events';

export type { Sparsifier, MaskUpdateContext } from './plugins/sparsifiers/sparsifier';
export { RigLSparsifier } from './plugins/sparsifiers/rigl';
export { SETSparsifier } from './plugins/sparsifiers/set';
export { StaticSparsifier } from './plugins/sparsifiers/static';
export { topKMask, dropSmallestMagnitude, growLargestScores } from './plugins/sparsifiers/mask-ops';

export type { DensityDistribution, LayerShape } from './plugins/distributions/density-distribution';
export { UniformDistribution } from './plugins/distributions/uniform';
export { ErdosRenyiDistribution, ErdosRenyiKernelDistribution } from './plugins/distributions/erdos-renyi';

export { MaskedOptimizer } from './plugins/optimizer/masked-optimizer';
export { MaskUpdaterCallback } from './callbacks/mask-updater-callback';
export { SeededRandom, type RandomSource } from './plugins/random-source';
export { dropFractionAt, isMaskUpdateStep, type MaskSchedule, type DropFractionDecay } from './plugins/schedules/drop-fraction';
export { registerWasmTrainingKernels, type WasmKernelOptions } from './plugins/backends/wasm-training-kernels';

export {
  mspScore, energyScore, maxLogitScore, unknownScore, mspScoreAsync, energyScoreAsync, maxLogitScoreAsync, unknownScoreAsync,
  type ScoreOptions, type ScoreName, type OutputKind, type OutputSource,
} from './metrics/scores';
export { auroc, aupr, fprAtTpr, oodMetrics, type OodMetrics, type PositiveClass } from './metrics/ood-metrics';
export { expectedCalibrationError, accuracy, accuracyAsync, type EceOptions, type ConfidenceInput, type ProbabilityInput } from './metrics/calibration';
export { sparsityReport, type SparsityReport, type LayerSparsity } from './metrics/sparsity-report';
export { ReliabilityMonitor, type ReliabilityMonitorOptions } from './callbacks/reliability-monitor';
export { addUnknownHead, padUnknownColumn } from './plugins/moon/unknown-head';
export { AutoTunerCallback, type TunerSettings } from './callbacks/auto-tuner';
export { LearningRateScheduleCallback, learningRateMultiplier, type LearningRateSchedule } from './callbacks/learning-rate-schedule';
export { SnapshotVoterCallback, isSnapshotBatch, type SnapshotRule, type VoterSettings, type FinalizeData } from './callbacks/snapshot-voter';
export { exportSparse, loadSparse, sizeReport, type SizeReport } from './plugins/export/sparse-export';
export { CheckpointCallback, type CheckpointOptions } from './callbacks/checkpoint-callback';
export { NanGuardCallback } from './callbacks/nan-guard';
