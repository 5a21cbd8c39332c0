import * as tf from '@tensorflow/tfjs';

/** An optimizer slot variable and the name of the variable it belongs to (`<variable>/<slot>`). */
export interface OptimizerSlot {
  readonly owner: string;
  readonly slot: tf.Variable;
}

/**
 * Splits an optimizer weight's name, `<variable>/<slot>` as `getWeights()` names slots, into the variable it belongs
 * to and the slot's name; undefined for names without a slot part (the step counter `iter`).
 */
export function splitSlotName(name: string): { owner: string; slot: string } | undefined {
  const slash = name.lastIndexOf('/');
  return slash > 0 ? { owner: name.slice(0, slash), slot: name.slice(slash + 1) } : undefined;
}

/**
 * Reads the live slot variables of `optimizer` through its public `getWeights()` (which names them
 * `<variable>/<slot>`); the fresh iteration scalar it allocates is freed. Throws whatever `getWeights()` throws
 * (Adamax has none), before the caller has changed anything.
 */
export async function readOptimizerSlots(optimizer: tf.Optimizer): Promise<OptimizerSlot[]> {
  const weights = await optimizer.getWeights();
  const slots: OptimizerSlot[] = [];
  for (const w of weights) {
    const parts = splitSlotName(w.name);
    if (w.name === 'iter') w.tensor.dispose(); // getWeights() allocates a fresh iteration scalar on every call
    else if (parts) slots.push({ owner: parts.owner, slot: w.tensor as tf.Variable });
  }
  return slots;
}

/**
 * Multiplies, in place, each slot whose owner is named in `keep` by its tensor (slots of another shape, or of
 * variables not named, are left alone). Synchronous: read the slots first, then change weights, masks and slots.
 */
export function scaleSlots(slots: readonly OptimizerSlot[], keep: ReadonlyMap<string, tf.Tensor>): void {
  for (const { owner, slot } of slots) {
    const factor = keep.get(owner);
    if (factor === undefined || !tf.util.arraysEqual(slot.shape, factor.shape)) continue;
    tf.tidy(() => {
      slot.assign(tf.mul(slot, factor));
    });
  }
}

/** How {@link remapSlots} changes the slots of one variable: the variable they belong to next, and their new value. */
export interface SlotRemap {
  readonly owner: string;
  /** The slot's value for the new owner (a new tensor; the slot given is left as it is). */
  convert(slot: tf.Tensor): tf.Tensor;
}

/**
 * Gives the slots of the variables named in `remap` to other variables, with values of another shape, through the
 * optimizer's own `getWeights()`/`setWeights()`: TF.js's optimizers keep slots by position, so positions stay and
 * names and shapes change. Every slot variable is rebuilt by `setWeights`; the old ones are freed. Nothing happens
 * when no slot belongs to a variable named (a fresh optimizer, or SGD).
 */
export async function remapSlots(optimizer: tf.Optimizer, remap: ReadonlyMap<string, SlotRemap>): Promise<void> {
  const weights = await optimizer.getWeights();
  const target = (name: string) => {
    const parts = splitSlotName(name);
    const to = parts && remap.get(parts.owner);
    return to ? { to, slot: parts.slot } : undefined;
  };
  if (!weights.some((w) => target(w.name) !== undefined)) {
    tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor)); // getWeights() made a fresh scalar
    return;
  }
  const made: tf.Tensor[] = [];
  const next = weights.map((w) => {
    const t = target(w.name);
    if (t === undefined) return w;
    const tensor = tf.tidy(() => t.to.convert(w.tensor));
    made.push(tensor);
    return { name: `${t.to.owner}/${t.slot}`, tensor };
  });
  await optimizer.setWeights(next);
  // setWeights made a variable of its own from each tensor given (sharing the data): the old slots and what was made go.
  tf.dispose([...weights.map((w) => w.tensor), ...made]);
}

/**
 * Whether `optimizer`'s slots can be read; resolves to the error `getWeights()` raised, or undefined. Never
 * rejects (an unhandled rejection would crash Node before the kit can report it).
 */
export function probeOptimizerSlots(optimizer: tf.Optimizer): Promise<Error | undefined> {
  return readOptimizerSlots(optimizer).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}

/** An optimizer whose learning rate TF.js stores in a plain field (Adam, RMSProp, Adagrad, Adadelta, Adamax). */
interface LearningRateField {
  learningRate: number;
}

/**
 * Sets the learning rate of any TF.js optimizer: SGD and Momentum only honour `setLearningRate()` (their step
 * uses a cached scalar), while Adam & co. have no setter and read their `learningRate` field on every step.
 */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const withSetter = optimizer as tf.Optimizer & { setLearningRate?: (lr: number) => void };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(learningRate);
  else (optimizer as unknown as LearningRateField).learningRate = learningRate;
}

/** Reads the learning rate of any TF.js optimizer, or undefined if it has none. */
export function getOptimizerLearningRate(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as Partial<LearningRateField>).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}
