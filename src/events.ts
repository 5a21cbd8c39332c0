import { EventEmitter } from 'eventemitter3';

/** One masked layer as reported by `mask:init` and {@link MoonKit.masks}. Plain numbers only. */
export interface LayerMaskInfo {
  /** Name of the layer that owns the kernel. */
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

/** The events a kit emits, with their payloads. Every payload holds plain numbers and strings, never tensors. */
export interface MoonEventMap {
  'mask:init': (event: MaskInitEvent) => void;
  'mask:update': (event: MaskUpdateEvent) => void;
  'reliability:epoch': (event: ReliabilityEpochEvent) => void;
}

/**
 * The typed event bus of one kit (an eventemitter3 emitter). Subscribe with `kit.events.on('mask:update', e => …)`.
 * Nothing syncs with the device to fill an event unless it has a listener.
 */
export class MoonEventBus extends EventEmitter<MoonEventMap> {}
