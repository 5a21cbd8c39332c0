import { MoonConfigError } from './errors';

/**
 * Which axes of a masked weight index its output units: `last` (Dense, convolutions, RNN kernels), `depthwise`
 * (the last two: channels × multiplier), `second-last` (transposed convolutions, whose kernel is
 * `[…, outChannels, inChannels]`), or `none` (an embedding table: a lookup has no fan-in). The sparse fan-in
 * initialisation rescales per unit, and the few-weights warning counts units, along these axes.
 */
export type UnitAxes = 'last' | 'depthwise' | 'second-last' | 'none';

/**
 * Where a masked weight is applied, per example, for the multiply-add count of the sparsity report: at each output
 * position of the layer (Dense, convolutions), at each input position (transposed convolutions), at each time step
 * (recurrent kernels), or nowhere (`none`: an embedding lookup multiplies nothing).
 */
export type AppliedAt = 'output-positions' | 'input-positions' | 'time-steps' | 'none';

/**
 * What the kit masks in a layer class (the idea of TF Model Optimization's `PrunableLayer`): the names of its
 * maskable weights (the last part of the weight's name, e.g. `kernel`, `recurrent_kernel`), and how they are laid
 * out. Register one for a custom layer with `registerMaskableLayer(className, spec)`.
 */
export interface MaskableLayerSpec {
  /** The weights to mask, by the last part of their name (`kernel` matches `dense_1/kernel`). */
  readonly weights: readonly string[];
  /** The axes of the output units. Default `last`. */
  readonly units?: UnitAxes;
  /** Where the weights are applied, for multiply-add counts. Default `output-positions`. */
  readonly appliedAt?: AppliedAt;
}

const KERNEL: MaskableLayerSpec = { weights: ['kernel'] };
const RECURRENT: MaskableLayerSpec = { weights: ['kernel', 'recurrent_kernel'], appliedAt: 'time-steps' };
const TRANSPOSED: MaskableLayerSpec = { weights: ['kernel'], units: 'second-last', appliedAt: 'input-positions' };

/**
 * The layer classes of tfjs-layers whose weights the kit masks. Wrappers (Bidirectional, TimeDistributed and any
 * layer holding `layer` or `forwardLayer`/`backwardLayer`) are not listed: the kit masks the layers they wrap.
 * SeparableConv2D keeps its depthwise kernel dense (few weights, one channel per filter); its pointwise kernel is
 * masked. An Embedding's table is masked whole (rows × dimensions).
 */
export const BUILTIN_MASKABLE_LAYERS: Readonly<Record<string, MaskableLayerSpec>> = {
  Dense: KERNEL,
  Conv1D: KERNEL,
  Conv2D: KERNEL,
  Conv3D: KERNEL,
  Conv2DTranspose: TRANSPOSED,
  Conv3DTranspose: TRANSPOSED,
  DepthwiseConv2D: { weights: ['depthwise_kernel'], units: 'depthwise' },
  SeparableConv2D: { weights: ['pointwise_kernel'] },
  Embedding: { weights: ['embeddings'], units: 'none', appliedAt: 'none' },
  LSTM: RECURRENT,
  GRU: RECURRENT,
  SimpleRNN: RECURRENT,
};

/** Finds the spec of a layer class: the registered ones, then the built-ins. */
export type MaskableLayerLookup = (className: string) => MaskableLayerSpec | undefined;

/** The built-in lookup (no registration). */
export const builtinMaskableLayer: MaskableLayerLookup = (className) =>
  Object.prototype.hasOwnProperty.call(BUILTIN_MASKABLE_LAYERS, className) ? BUILTIN_MASKABLE_LAYERS[className] : undefined;

const UNIT_AXES: readonly UnitAxes[] = ['last', 'depthwise', 'second-last', 'none'];
const APPLIED_AT: readonly AppliedAt[] = ['output-positions', 'input-positions', 'time-steps', 'none'];

/** Checks a spec a user registers, so that a typo fails at registration and not inside a fit. */
export function checkMaskableLayerSpec(className: string, spec: MaskableLayerSpec): MaskableLayerSpec {
  const where = `registerMaskableLayer("${className}")`;
  if (spec === null || typeof spec !== 'object') throw new MoonConfigError(`${where}: expected a spec object { weights: ['kernel', …] }, got ${spec === null ? 'null' : typeof spec}`);
  const { weights, units, appliedAt } = spec;
  if (!Array.isArray(weights) || weights.length === 0 || weights.some((w) => typeof w !== 'string' || w.length === 0 || w.includes('/'))) {
    throw new MoonConfigError(`${where}: weights must be a non-empty array of weight names without '/', such as ['kernel'] or ['kernel', 'recurrent_kernel']`);
  }
  for (const key of Object.keys(spec)) {
    if (!['weights', 'units', 'appliedAt'].includes(key)) throw new MoonConfigError(`${where}: unknown key "${key}"; a spec has weights, units and appliedAt`);
  }
  if (units !== undefined && !UNIT_AXES.includes(units)) throw new MoonConfigError(`${where}: units must be one of ${UNIT_AXES.map((u) => `'${u}'`).join(', ')}, got ${JSON.stringify(units)}`);
  if (appliedAt !== undefined && !APPLIED_AT.includes(appliedAt)) {
    throw new MoonConfigError(`${where}: appliedAt must be one of ${APPLIED_AT.map((u) => `'${u}'`).join(', ')}, got ${JSON.stringify(appliedAt)}`);
  }
  return { weights: [...weights], units, appliedAt };
}
