import type * as tf from '@tensorflow/tfjs';
import { MoonCheckpointError } from '../../core/errors';
import { isShape } from '../export/manifest-check';

/**
 * The checks of a checkpoint's manifest and records, made before a kit touches the model: a checkpoint may be
 * hand-edited with valid checksums, so every field is checked for type and range, every record against the model
 * and the buffer it points into, and every mask for 0/1 values with the recorded counts.
 */

/** One tensor stored in weights.bin or state.bin. */
export interface TensorRecord {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  bytes: number;
}

/** The parts whose state a checkpoint may hold (the prefix of each state record's name). */
const PARTS = ['masks', 'loss', 'tuner', 'voter', 'weightDrop', 'prune', 'optimizer'];

const refuse = (dir: string, problem: string): never => {
  throw new MoonCheckpointError(`checkpoint ${dir} is malformed: ${problem}. It was damaged or edited; nothing was changed: resume from another checkpoint`);
};

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * Checks a list of records: each well-formed (name, shape, float32/int32, 4 bytes per element) and laid end to end
 * from offset 0. Returns the bytes they take, which the file must have exactly.
 */
export function checkRecords(dir: string, what: string, records: unknown): number {
  if (!Array.isArray(records)) return refuse(dir, `its ${what} records are not a list`);
  let end = 0;
  records.forEach((r: Partial<TensorRecord>, i) => {
    const where = `${what} record ${i}`;
    if (typeof r?.name !== 'string' || !isShape(r.shape) || (r.dtype !== 'float32' && r.dtype !== 'int32')) {
      refuse(dir, `${where} needs a name, a shape and dtype float32 or int32`);
    }
    const size = (r.shape as number[]).reduce((p, d) => p * d, 1);
    if (r.offset !== end || r.bytes !== 4 * size) refuse(dir, `${where} ("${r.name}") lies at ${r.offset}+${r.bytes}, expected ${end}+${4 * size}`);
    end += 4 * size;
  });
  return end;
}

/** What the manifest must agree with: the model, the kit's run length, and its masked kernels. */
export interface CheckpointExpectations {
  model: tf.LayersModel;
  epochs: number;
  maskShapes: readonly (readonly number[])[];
}

/** The fields of a manifest that the checks read. */
interface ManifestFields {
  nextEpoch: unknown;
  step: unknown;
  weights: TensorRecord[];
  state: TensorRecord[];
  values: unknown;
  random: unknown;
  optimizer: unknown;
  architecture: unknown;
}

/** Checks the manifest's scalar fields and its records against the model (shapes, dtypes, parts, counts). */
export function checkManifest(dir: string, m: ManifestFields, expect: CheckpointExpectations): void {
  if (!isCount(m.nextEpoch) || m.nextEpoch > expect.epochs) refuse(dir, `nextEpoch ${JSON.stringify(m.nextEpoch)} is not an epoch in [0, ${expect.epochs}]`);
  if (!isCount(m.step)) refuse(dir, `step ${JSON.stringify(m.step)} is not a non-negative integer`);
  const random = m.random;
  if (!Array.isArray(random) || !random.every((v) => isCount(v) && v < 2 ** 32)) refuse(dir, 'its random state is not a list of 32-bit unsigned integers');
  const architecture = m.architecture as { weights?: unknown; trainable?: unknown } | null;
  if (!Array.isArray(architecture?.weights) || !Array.isArray(architecture?.trainable) || !architecture.trainable.every((n) => typeof n === 'string')) {
    refuse(dir, 'its architecture must list the weights and the trainable weights\' names');
  }
  if ((architecture!.trainable as string[]).length !== expect.model.trainableWeights.length) {
    refuse(dir, `it lists ${(architecture!.trainable as string[]).length} trainable weights, the model has ${expect.model.trainableWeights.length}`);
  }
  // The records must agree with the manifest's own architecture; the architecture is compared with the model after.
  const listed = architecture!.weights as { name?: unknown; shape?: unknown }[];
  if (m.weights.length !== listed.length) refuse(dir, `it stores ${m.weights.length} weights and lists ${listed.length}`);
  m.weights.forEach((r, i) => {
    if (typeof listed[i]?.name !== 'string' || !isShape(listed[i].shape) || r.shape.join(',') !== (listed[i].shape as number[]).join(',')) {
      refuse(dir, `weight record ${i} has shape [${r.shape}], its architecture entry ${JSON.stringify(listed[i])}`);
    }
    const w = expect.model.weights[i];
    if (w !== undefined && r.dtype !== (w.dtype === 'int32' ? 'int32' : 'float32')) refuse(dir, `weight ${i} is ${r.dtype}, the model's "${w.name}" is ${w.dtype}`);
  });
  for (const r of m.state) {
    const part = r.name.slice(0, r.name.indexOf('/'));
    if (!PARTS.includes(part)) refuse(dir, `state record "${r.name}" belongs to no part of a kit`);
  }
  const optimizer = m.optimizer;
  const slots = m.state.filter((r) => r.name.startsWith('optimizer/')).length;
  if (!Array.isArray(optimizer) || optimizer.length !== slots || !optimizer.every((n) => typeof n === 'string')) {
    refuse(dir, `it names ${Array.isArray(optimizer) ? optimizer.length : 'no'} optimizer weights for ${slots} records`);
  }
  if (typeof m.values !== 'object' || m.values === null || Object.values(m.values).some((v) => typeof v !== 'object' || v === null)) {
    refuse(dir, 'its part values must be an object of objects');
  }
  checkPartShapes(dir, m, expect);
}

/** The state tensors each part restores must have the shapes the kit will assign them to. */
function checkPartShapes(dir: string, m: ManifestFields, expect: CheckpointExpectations): void {
  const trainable = expect.model.trainableWeights.map((w) => w.shape as number[]);
  const expected = (name: string): readonly number[] | undefined => {
    const [part, field] = [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)];
    const index = Number(/(\d+)$/.exec(field)?.[1] ?? NaN);
    if (part === 'masks' || part === 'weightDrop') return expect.maskShapes[index];
    if (part === 'voter') return trainable[index];
    if (part === 'loss' || part === 'tuner') return [];
    return undefined; // optimizer slots are checked by the optimizer wrapper against its variables
  };
  for (const r of m.state) {
    if (r.name.startsWith('optimizer/')) continue;
    const shape = expected(r.name);
    if (shape === undefined || shape.join(',') !== r.shape.join(',') || r.dtype !== 'float32') {
      refuse(dir, `state record "${r.name}" is ${r.dtype} [${r.shape}], the kit expects float32 [${shape ?? '?'}]`);
    }
  }
}

/**
 * Checks the saved masks: as many as the kit has, each exactly 0 or 1 with the active count the manifest records.
 * @param masks the masks' values, in order
 */
export function checkMasks(dir: string, masks: readonly Float32Array[], active: unknown, expectedCount: number): void {
  if (masks.length !== expectedCount) refuse(dir, `it holds ${masks.length} masks, this kit masks ${expectedCount} kernels`);
  if (!Array.isArray(active) || active.length !== masks.length || !active.every(isCount)) refuse(dir, 'its masks\' active counts are missing or not integers');
  masks.forEach((mask, i) => {
    let ones = 0;
    for (const v of mask) {
      if (v !== 0 && v !== 1) refuse(dir, `mask ${i} holds ${v}; a mask holds only 0 and 1`);
      ones += v;
    }
    if (ones !== (active as number[])[i]) refuse(dir, `mask ${i} has ${ones} ones, the manifest records ${(active as number[])[i]} active weights`);
  });
}

/** Checks the plain values of the parts: the types each part's `importState` reads. */
export function checkPartValues(dir: string, values: Record<string, Record<string, unknown>>, maskSizes: readonly number[]): void {
  const { loss, tuner, voter, prune } = values;
  if (loss && loss.ewmaStarted !== undefined && typeof loss.ewmaStarted !== 'boolean') refuse(dir, 'loss.ewmaStarted must be true or false');
  if (tuner && tuner.startEpoch !== null && tuner.startEpoch !== undefined && !isCount(tuner.startEpoch)) refuse(dir, 'tuner.startEpoch must be an epoch or null');
  if (voter && (!isCount(voter.count) || typeof voter.finalized !== 'boolean')) refuse(dir, 'voter needs an integer count and a finalized flag');
  if (prune) {
    const counts = prune.initialCounts;
    if (!Array.isArray(counts) || counts.length !== maskSizes.length || !counts.every((c, i) => isCount(c) && c <= maskSizes[i])) {
      refuse(dir, 'prune.initialCounts must give each masked kernel a count of at most its size');
    }
  }
}
