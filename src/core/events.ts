import { EventEmitter } from 'eventemitter3';

/** One masked layer as reported by `mask:init` and {@link MoonKit.masks}. Plain numbers only. */
export interface LayerMaskInfo {
  /** The mask's name: the layer's, or `layer/weight` for a layer with several masked weights (`lstm_1/recurrent_kernel`). */
  readonly name: string;
  /** Name of the kernel variable (unique in the TF.js engine). */
  readonly variable: string;
  readonly shape: readonly number[];
  /** Number of weights in the kernel. */
  readonly total: number;
  /** Number of active (unmasked) weights. */
  readonly active: number;
  /** active / total. */
  readonly density: number;
}

/**
 * Payload of `mask:warning`: at creation, random masks drawn on a model that is already sparse or trained
 * ({@link InitialWeightsWarning}) or a plan that does less than asked ({@link LayerPlanWarning}); after the second
 * epoch, a loss stalled at chance ({@link LossStallWarning}). Printed as one console line when nobody listens.
 */
export type MaskWarningEvent = InitialWeightsWarning | LayerPlanWarning | LossStallWarning;

/** The first two epochs' losses sit at the chance level, ln(outputs), and do not move: the model is not learning. */
export interface LossStallWarning {
  readonly kind: 'loss-stalled';
  /** What happens and what to try. */
  readonly message: string;
  /** The mean losses of epochs 1 and 2. */
  readonly losses: readonly number[];
}

/** Random masks would overwrite what the model holds: its kernels already hold zeros, or it was trained. */
export interface InitialWeightsWarning {
  readonly kind: 'already-sparse' | 'trained';
  /** What will happen and which option to use instead. */
  readonly message: string;
  /** Per masked layer: the fraction of its kernel that was exactly 0 before the kit's masks. */
  readonly zeroFractions: readonly number[];
}

/**
 * The run does less than asked in some layers: `few-weights`, a layer keeps fewer active weights than it has
 * output units (some units then get no input weight); `no-mask-update`, a dynamic sparsifier (RigL, SET) has no
 * mask update in the run's plan, so every layer's mask stays as drawn; `layers-left-dense`, layers of a class the kit
 * does not know (a custom layer nobody registered with `registerMaskableLayer`) hold trainable matrices that stay dense.
 */
export interface LayerPlanWarning {
  readonly kind: 'few-weights' | 'no-mask-update' | 'layers-left-dense';
  /** What will happen and which option to use instead. */
  readonly message: string;
  /** The layers concerned. */
  readonly layers: readonly string[];
}

/** Payload of `mask:init`: the initial masks, once per kit, at the start of the first `fit`. */
export interface MaskInitEvent {
  readonly layers: readonly LayerMaskInfo[];
  /** Global density over the masked kernels: Σ active / Σ total. */
  readonly density: number;
}

/** Payload of `mask:update`: one event per masked layer per prune-and-grow update. */
export interface MaskUpdateEvent {
  /** Optimizer step (1-based) at which the update replaced the optimizer step. */
  readonly step: number;
  /** The mask's name (as in `kit.maskSummary`). */
  readonly layer: string;
  /** Positions switched off by this update. */
  readonly dropped: number;
  /** Positions switched on by this update (their weights start at 0). */
  readonly grown: number;
  /** The layer's density after the update. */
  readonly density: number;
  /** The drop fraction the schedule gave for this step. */
  readonly dropFraction: number;
}

/** Payload of `mask:prune`: one event per masked layer per gradual-pruning step that pruned it. */
export interface MaskPruneEvent {
  /** Optimizer step (1-based) after which the layer was pruned. */
  readonly step: number;
  /** The mask's name (as in `kit.maskSummary`). */
  readonly layer: string;
  /** Weights switched off (the smallest |w| among the active ones). */
  readonly pruned: number;
  /** The layer's density after pruning. */
  readonly density: number;
  /** Global sparsity over the masked kernels after this step's pruning of every layer so far. */
  readonly sparsity: number;
}

/** The four OOD metrics of one OOD set (see `oodMetrics`). */
export interface OodMetricValues {
  readonly auroc: number;
  readonly auprIn: number;
  readonly auprOut: number;
  readonly fpr95: number;
}

/** Payload of `reliability:epoch`: the reliability monitor's numbers at the end of an evaluated epoch. */
export interface ReliabilityEpochEvent {
  /** 0-based epoch, as in `fit`'s callbacks. */
  readonly epoch: number;
  /** ID accuracy (argmax over the monitor's `accuracyOver` columns). */
  readonly accuracy: number;
  /** ID expected calibration error. */
  readonly ece: number;
  /** Per OOD set, by name. */
  readonly ood: Readonly<Record<string, OodMetricValues>>;
}

/** Payload of `tuner:alpha`: α of the unknown-aware loss for an epoch (from the first post-warm-up epoch on). */
export interface TunerAlphaEvent {
  readonly epoch: number;
  readonly alpha: number;
  /** The EWMA of mean((1 − u)·CE) over training batches, as it stood when α was set. */
  readonly ewma: number;
}

/** Payload of `lr:update`: the learning rate at the first step of an epoch. */
export interface LearningRateEvent {
  readonly epoch: number;
  readonly learningRate: number;
}

/** Payload of `voter:snapshot`: one more set of weights entered the running average. */
export interface VoterSnapshotEvent {
  readonly epoch: number;
  /** 0-based batch index within the epoch. */
  readonly batch: number;
  /** Snapshots averaged so far. */
  readonly count: number;
}

/** Payload of `voter:finalize`: the averaged weights were written into the model. */
export interface VoterFinalizeEvent {
  readonly snapshots: number;
  /** BatchNormalization layers whose moving statistics were re-estimated (0: no BN, or no refresh). */
  readonly batchNormLayers: number;
  /** Samples the re-estimation pass saw. */
  readonly samples: number;
}

/** The events a kit emits, with their payloads. Every payload holds plain numbers and strings, never tensors. */
export interface MoonEventMap {
  'mask:init': (event: MaskInitEvent) => void;
  'mask:update': (event: MaskUpdateEvent) => void;
  'reliability:epoch': (event: ReliabilityEpochEvent) => void;
  'tuner:alpha': (event: TunerAlphaEvent) => void;
  'lr:update': (event: LearningRateEvent) => void;
  'voter:snapshot': (event: VoterSnapshotEvent) => void;
  'voter:finalize': (event: VoterFinalizeEvent) => void;
  'mask:warning': (event: MaskWarningEvent) => void;
  'mask:prune': (event: MaskPruneEvent) => void;
}

/**
 * The typed event bus of one kit (an eventemitter3 emitter). Subscribe with `kit.events.on('mask:update', e => …)`.
 * Nothing syncs with the device to fill an event unless it has a listener.
 */
export class MoonEventBus extends EventEmitter<MoonEventMap> {}
