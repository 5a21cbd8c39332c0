import * as tf from '@tensorflow/tfjs';
import { MoonCheckpointError } from '../../core/errors';
import type { GradualPruning } from '../masks/gradual-pruning';
import type { MaskSet } from '../masks/mask-set';
import type { AlphaSchedule } from '../moon/alpha-schedule';
import type { UnknownAwareState } from '../moon/unknown-aware-loss';
import type { WeightAverage } from '../moon/weight-average';
import type { MaskedOptimizer, NamedTensor } from '../optimizer/masked-optimizer';
import { splitSlotName } from '../optimizer/optimizer-slots';
import type { RandomWeightDrop } from '../optimizer/random-weight-drop';
import type { RandomSource } from '../random-source';
import type { PartState } from '../../core/types';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointRun, readCheckpointFiles, writeCheckpointFiles, type CheckpointFiles } from './checkpoint-files';
import { checkManifest, checkMasks, checkPartValues, checkRecords, type TensorRecord } from './checkpoint-check';

/**
 * What must be equal between the kit that wrote a checkpoint and the kit that resumes from it: the task and the
 * kit, and the run's length and every schedule (a resumed run with other epochs would mix the old α ramp with a new
 * learning-rate and averaging plan).
 */
export interface KitIdentity {
  numClasses: number;
  unknownAware: boolean;
  preset: string;
  sparsity: number;
  sparsifier: string | { drop: string; grow: string };
  distribution: string;
  randomMaskDpnum: number;
  epochs: number;
  stepsPerEpoch: number;
  maskSchedule: Record<string, unknown>;
  tuner: object | null;
  lr: object | null;
  voter: object | null;
  prune: object | null;
  /** Coupled weight decay, when not 0. */
  weightDecay?: number;
  /** The unknown-aware loss, when not 'released'. */
  lossVariant?: string;
}

/** The stateful parts of a kit. */
export interface CheckpointParts {
  model: tf.LayersModel;
  identity: KitIdentity;
  /** The run this kit belongs to: written into each checkpoint, so that a folder is never shared by two runs. */
  run: string;
  masks: MaskSet;
  random: RandomSource;
  lossState?: UnknownAwareState;
  /** The α ramp (saved under its 0.1 name, `tuner`). */
  alphaSchedule?: AlphaSchedule;
  /** The voter's running average (saved under its 0.1 name, `voter`). */
  weightAverage?: WeightAverage;
  weightDrop?: RandomWeightDrop;
  pruning?: GradualPruning;
}


interface Manifest {
  format: string;
  version: number;
  created: string;
  /** The run the checkpoint belongs to (a fresh kit's own id, kept by the kits that resume it). */
  run?: string;
  nextEpoch: number;
  step: number;
  kit: KitIdentity;
  architecture: { weights: { name: string; shape: number[] }[]; trainable: string[] };
  weights: TensorRecord[];
  state: TensorRecord[];
  values: Record<string, Record<string, unknown>>;
  random: number[];
  optimizer: string[];
  files: Record<string, string>;
}

/** Reads tensors into one byte buffer with a record per tensor. */
async function pack(named: readonly [string, tf.Tensor][]): Promise<{ records: TensorRecord[]; bytes: Uint8Array }> {
  const records: TensorRecord[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    const data = await t.data();
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const typed = dtype === 'int32' ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array);
    const bytes = new Uint8Array(typed.buffer);
    records.push({ name, shape: t.shape.slice(), dtype, offset, bytes: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const all = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { records, bytes: all };
}

/** A tensor from a record of a verified buffer. */
function unpack(record: TensorRecord, buffer: Buffer): tf.Tensor {
  const bytes = buffer.subarray(record.offset, record.offset + record.bytes);
  const copy = new Uint8Array(bytes).buffer;
  return tf.tensor(record.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy), record.shape, record.dtype);
}

/** The parts that keep state, by the name they are saved under. */
function stateful(parts: CheckpointParts): [string, { exportState(): PartState }][] {
  const list: [string, { exportState(): PartState } | undefined][] = [
    ['masks', parts.masks], ['loss', parts.lossState], ['tuner', parts.alphaSchedule], ['voter', parts.weightAverage], ['weightDrop', parts.weightDrop], ['prune', parts.pruning],
  ];
  return list.filter((p): p is [string, { exportState(): PartState }] => p[1] !== undefined);
}

/**
 * Writes a checkpoint of a kit: the model's weights, the masks, α and its EWMA, the tuner's ramp, the voter's
 * average, the random weight drop, the random source's state, the optimizer's step and slots, with a format version
 * and a sha256 per file; atomically.
 * @param nextEpoch the epoch a resumed fit starts at (`initialEpoch`)
 */
export async function saveKitCheckpoint(dir: string, parts: CheckpointParts, optimizer: MaskedOptimizer | undefined, nextEpoch: number): Promise<void> {
  const owner = checkpointRun(dir);
  if (owner !== undefined && owner !== parts.run) {
    throw new MoonCheckpointError(`${dir} holds a checkpoint of another run (${owner}); it is never overwritten by this one (${parts.run}): write to another folder`);
  }
  const exported = stateful(parts).map(([name, part]) => [name, part.exportState()] as const);
  const optimizerWeights = optimizer ? await optimizer.getWeights() : [];
  try {
    const weights = await pack(parts.model.weights.map((w, i) => [`weight${i}`, w.read()] as [string, tf.Tensor]));
    const state = await pack([
      ...exported.flatMap(([part, s]) => Object.entries(s.tensors).map(([name, t]) => [`${part}/${name}`, t] as [string, tf.Tensor])),
      ...optimizerWeights.map((w, i) => [`optimizer/${i}`, w.tensor] as [string, tf.Tensor]),
    ]);
    const manifest: Omit<Manifest, 'files'> = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      created: new Date().toISOString(),
      run: parts.run,
      nextEpoch,
      step: optimizer?.iterations ?? 0,
      kit: parts.identity,
      architecture: {
        weights: parts.model.weights.map((w) => ({ name: w.name, shape: w.read().shape.slice() })),
        trainable: parts.model.trainableWeights.map((w) => w.name),
      },
      weights: weights.records,
      state: state.records,
      values: Object.fromEntries(exported.map(([part, s]) => [part, s.values])),
      random: parts.random.getState(),
      optimizer: optimizerWeights.map((w) => w.name),
    };
    writeCheckpointFiles(dir, manifest as unknown as Record<string, unknown>, { 'weights.bin': weights.bytes, 'state.bin': state.bytes });
  } finally {
    for (const [, s] of exported) tf.dispose(Object.values(s.tensors));
    // getWeights() hands out fresh step-counter scalars and the live slot variables: free only the former.
    for (const w of optimizerWeights) if (w.name === 'iter' || w.name === 'inner/iter') w.tensor.dispose();
  }
}

/** A checkpoint read from disk and checked against a kit, not yet applied. */
export interface LoadedCheckpoint {
  dir: string;
  nextEpoch: number;
  step: number;
  manifest: Manifest;
  weights: Buffer;
  state: Buffer;
}

/**
 * Whether a checkpoint was written for this model and kit: the architecture (every weight's shape, in order), the
 * kit's identity (K, unknown-aware, preset, schedules, …) and the masked kernels.
 */
function checkFits(dir: string, m: Manifest, model: tf.LayersModel, identity: KitIdentity, maskShapes: readonly (readonly number[])[]): void {
  const shapes = model.weights.map((w) => w.read().shape);
  const saved = Array.isArray(m.architecture?.weights) ? m.architecture.weights : [];
  const mismatch = shapes.length !== saved.length ? -1 : shapes.findIndex((s, i) => !tf.util.arraysEqual(s, saved[i]?.shape));
  if (shapes.length !== saved.length || mismatch >= 0) {
    throw new MoonCheckpointError(
      `checkpoint ${dir} is of another architecture: ` +
        (shapes.length !== saved.length
          ? `it holds ${saved.length} weights, this model has ${shapes.length}`
          : `weight ${mismatch} ("${saved[mismatch]?.name}") has shape [${saved[mismatch]?.shape}], this model's has [${shapes[mismatch]}]`) +
        '; resume with the model the checkpoint was written from',
    );
  }
  const kit = (m.kit ?? {}) as unknown as Record<string, unknown>;
  const differences = (Object.keys(identity) as (keyof KitIdentity)[]).filter((k) => JSON.stringify(identity[k]) !== JSON.stringify(kit[k]));
  const extra = Object.keys(kit).filter((k) => !(k in identity));
  if (differences.length > 0 || extra.length > 0) {
    const described = [
      ...differences.map((k) => `${k} ${JSON.stringify(kit[k])} there, ${JSON.stringify(identity[k])} here`),
      ...extra.map((k) => `${k} ${JSON.stringify(kit[k])} there, the default here`),
    ];
    throw new MoonCheckpointError(`checkpoint ${dir} was written by a different kit: ${described.join('; ')}. Resume with the same createMoon options`);
  }
  const savedMasks = (Array.isArray(m.state) ? m.state : []).filter((r) => typeof r?.name === 'string' && r.name.startsWith('masks/'));
  if (savedMasks.length !== maskShapes.length || savedMasks.some((r, i) => !tf.util.arraysEqual(r.shape, maskShapes[i] as number[]))) {
    throw new MoonCheckpointError(`checkpoint ${dir} masks other layers than this kit (mask.denseLayers / firstLayerDense differ): resume with the same options`);
  }
}

/** The masks' values of a read checkpoint, from host bytes (no device read). */
function maskValues(manifest: Manifest, state: Buffer): Float32Array[] {
  return manifest.state
    .filter((r) => r.name.startsWith('masks/'))
    .map((r) => new Float32Array(new Uint8Array(state.subarray(r.offset, r.offset + r.bytes)).buffer));
}

/**
 * Reads and checks a checkpoint for `model` and a kit of `identity` masking kernels of `maskShapes`, without
 * changing anything: format, version and checksums; every record, mask and value (a hand-edited checkpoint with
 * valid checksums is refused too); then the architecture (every weight's shape, in order) and the kit (K,
 * unknown-aware, preset, …). Under a parent folder the newest checkpoint that passes the record checks is taken.
 */
export function loadKitCheckpoint(where: string, model: tf.LayersModel, identity: KitIdentity, maskShapes: readonly (readonly number[])[]): LoadedCheckpoint {
  const sizes = (manifest: CheckpointFiles['manifest'], dir: string): Record<string, number> => {
    const m = manifest as unknown as Manifest;
    return { 'weights.bin': checkRecords(dir, 'weight', m.weights), 'state.bin': checkRecords(dir, 'state', m.state) };
  };
  const check = ({ dir, manifest, files }: CheckpointFiles): void => {
    const m = manifest as unknown as Manifest;
    if (!files['weights.bin'] || !files['state.bin']) throw new MoonCheckpointError(`checkpoint ${dir} is malformed: it must list weights.bin and state.bin`);
    checkFits(dir, m, model, identity, maskShapes);
    checkManifest(dir, m, { model, epochs: identity.epochs, maskShapes });
    checkMasks(dir, maskValues(m, files['state.bin']), (m.values.masks as { active?: unknown } | undefined)?.active, maskShapes.length);
    checkPartValues(dir, m.values, maskShapes.map((s) => tf.util.sizeFromShape(s as number[])));
  };
  const { dir, manifest, files } = readCheckpointFiles(where, sizes, check);
  const m = manifest as unknown as Manifest;
  return { dir, nextEpoch: m.nextEpoch, step: m.step, manifest: m, weights: files['weights.bin'], state: files['state.bin'] };
}

/** The saved masks, as flat 0/1 arrays (for building the kit's mask set). */
export function checkpointMasks(ckpt: LoadedCheckpoint): Float32Array[] {
  return maskValues(ckpt.manifest, ckpt.state);
}

/**
 * Applies a checked checkpoint to a kit: model weights, parts, random source. Returns the optimizer's saved weights
 * with slot names mapped to this model's variable names; the caller hands them to the optimizer wrapper before the
 * next step (restoring slots is asynchronous in TF.js).
 */
export function applyKitCheckpoint(ckpt: LoadedCheckpoint, parts: CheckpointParts): NamedTensor[] {
  const m = ckpt.manifest;
  tf.tidy(() => {
    parts.model.weights.forEach((w, i) => (w.read() as tf.Variable).assign(unpack(m.weights[i], ckpt.weights)));
  });
  const byPart = new Map<string, Record<string, tf.Tensor>>();
  for (const r of m.state.filter((rec) => !rec.name.startsWith('optimizer/'))) {
    const [part, name] = [r.name.slice(0, r.name.indexOf('/')), r.name.slice(r.name.indexOf('/') + 1)];
    byPart.set(part, { ...(byPart.get(part) ?? {}), [name]: unpack(r, ckpt.state) });
  }
  const state = (part: string): PartState => ({ tensors: byPart.get(part) ?? {}, values: m.values[part] ?? {} });
  try {
    parts.masks.importState(state('masks'));
    if (parts.lossState && m.values.loss) parts.lossState.importState(state('loss'));
    if (parts.alphaSchedule && m.values.tuner) parts.alphaSchedule.importState(state('tuner'));
    if (parts.weightAverage && m.values.voter) parts.weightAverage.importState(state('voter'), parts.model);
    if (parts.weightDrop && m.values.weightDrop) parts.weightDrop.importState(state('weightDrop'));
    if (parts.pruning && m.values.prune) parts.pruning.importState(state('prune'));
    parts.random.setState(m.random);
  } finally {
    for (const tensors of byPart.values()) tf.dispose(Object.values(tensors));
  }
  const rename = new Map(m.architecture.trainable.map((old, i) => [old, parts.model.trainableWeights[i].name]));
  return m.state
    .filter((r) => r.name.startsWith('optimizer/'))
    .map((r, i) => {
      const saved = m.optimizer[i];
      const parts = splitSlotName(saved);
      const variable = parts ? rename.get(parts.owner) : undefined;
      return { name: variable ? `${variable}/${parts!.slot}` : saved, tensor: unpack(r, ckpt.state) };
    });
}
