import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { sparseDenseLastAxis, type FusedActivation } from './sparse-dense-op';
import { checkLayoutContents, checkLayoutMetadata } from './layout-check';

/** What a {@link SparseDense} layer is made from (its serialized config, in camelCase). */
export interface SparseDenseArgs {
  /** Output width, as Dense's `units`. */
  units: number;
  /** Input width (the last axis of the input). */
  inputDim: number;
  /** Number of stored kernel entries (the kernel's nonzeros); the weights' shapes depend on it. */
  nnz: number;
  /** Any Keras activation name; 'linear' (default) and 'relu' run inside the kernel. */
  activation?: string;
  useBias?: boolean;
  name?: string;
  trainable?: boolean;
  inputShape?: number[];
  batchInputShape?: (number | null)[];
  dtype?: tf.DataType;
}

const FUSED: readonly string[] = ['linear', 'relu'];

/**
 * A Dense layer whose kernel is stored compressed by column: weights `values` [nnz] (float32), `row_indices` [nnz]
 * and `column_starts` [units + 1] (int32, not trainable) and `bias` [units]. On cpu and wasm it runs the compiled
 * sparse kernels, in time proportional to the nonzeros; elsewhere it rebuilds the dense kernel and multiplies.
 * `loadSparse(…, { kernels })` makes these from exported Dense layers; the class is registered with
 * `tf.serialization`, so a model holding them saves and loads as usual.
 */
export class SparseDense extends tf.layers.Layer {
  /** The name under which the class is registered for serialization. */
  static readonly className = 'SparseDense';
  readonly units: number;
  readonly inputDim: number;
  readonly nnz: number;
  readonly activationName: string;
  readonly useBias: boolean;
  private readonly afterKernel: tf.layers.Layer | undefined;
  private values!: tf.LayerVariable;
  private rowIndices!: tf.LayerVariable;
  private columnStarts!: tf.LayerVariable;
  private bias: tf.LayerVariable | undefined;

  constructor(args: SparseDenseArgs) {
    const { units, inputDim, nnz, activation, useBias, ...layerArgs } = args;
    super(layerArgs);
    for (const [key, value] of Object.entries({ units, inputDim })) {
      if (!Number.isInteger(value) || value < 1) throw new MoonConfigError(`SparseDense: ${key} must be a positive integer, got ${value}`);
    }
    if (!Number.isInteger(nnz) || nnz < 0 || nnz > units * inputDim) {
      throw new MoonConfigError(`SparseDense: nnz must be an integer in [0, units·inputDim = ${units * inputDim}], got ${nnz}`);
    }
    this.units = units;
    this.inputDim = inputDim;
    this.nnz = nnz;
    this.activationName = activation ?? 'linear';
    this.useBias = useBias ?? true;
    this.afterKernel = FUSED.includes(this.activationName) ? undefined : tf.layers.activation({ activation: this.activationName as never });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape[shape.length - 1] !== this.inputDim) {
      throw new MoonConfigError(`SparseDense ${this.name}: the input's last axis is ${shape[shape.length - 1]}, the layer takes ${this.inputDim}`);
    }
    const zeros = tf.initializers.zeros();
    this.values = this.addWeight('values', [this.nnz], 'float32', zeros);
    this.rowIndices = this.addWeight('row_indices', [this.nnz], 'int32', zeros, undefined, false);
    this.columnStarts = this.addWeight('column_starts', [this.units + 1], 'int32', zeros, undefined, false);
    this.bias = this.useBias ? this.addWeight('bias', [this.units], 'float32', zeros) : undefined;
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const fused: FusedActivation = this.activationName === 'relu' ? 'relu' : 'linear';
      const weight = {
        values: this.values.read() as tf.Tensor1D,
        rowIndices: this.rowIndices.read() as tf.Tensor1D,
        columnStarts: this.columnStarts.read() as tf.Tensor1D,
        inDim: this.inputDim,
      };
      const shaped = sparseDenseLastAxis(x, weight, this.bias?.read() as tf.Tensor1D | undefined, fused, this.name);
      return this.afterKernel === undefined ? shaped : (this.afterKernel.apply(shaped) as tf.Tensor);
    });
  }

  /**
   * Checks this layer's layout (dtypes, lengths, column starts, row indices in [0, inputDim)) with asynchronous
   * reads; throws a `MoonModelError` naming the layer. The kernels check it too, at the first call after it changed;
   * this lets a loader refuse a damaged file before anything runs.
   */
  async checkLayout(): Promise<void> {
    if (!this.built) return;
    const [values, rowIndices, columnStarts] = [this.values.read(), this.rowIndices.read(), this.columnStarts.read()];
    checkLayoutMetadata({ values, rowIndices, columnStarts, bias: this.bias?.read() }, this.units, this.name);
    checkLayoutContents((await rowIndices.data()) as Int32Array, (await columnStarts.data()) as Int32Array, this.inputDim, this.name);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      inputDim: this.inputDim,
      nnz: this.nnz,
      activation: this.activationName,
      useBias: this.useBias,
    };
  }
}
tf.serialization.registerClass(SparseDense);

/** The layers of a model, nested models included (depth first). */
function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => (l instanceof tf.LayersModel ? [l, ...allLayers(l)] : [l]));
}

/** Checks the layout of every SparseDense layer of `model` ({@link SparseDense.checkLayout}). */
export async function checkSparseDenseLayers(model: tf.LayersModel): Promise<void> {
  for (const layer of allLayers(model)) if (layer instanceof SparseDense) await layer.checkLayout();
}
