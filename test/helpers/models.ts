import * as tf from '@tensorflow/tfjs';

/** A 784-32-16-10 MLP with seeded initializers, so two builds with one seed hold the same weights. */
export function buildMlp(seed = 1, outputs = 10, inputSize = 784): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, activation: 'relu', inputShape: [inputSize], kernelInitializer: init(1) }),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: outputs, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

/**
 * A small CNN for 14×14×1 inputs: Conv2D(8) → MaxPool → Conv2D(16) → Flatten → Dense(outputs), seeded; `head` is
 * the last layer's activation.
 */
export function buildCnn(seed = 1, outputs = 10, head: 'softmax' | 'linear' = 'softmax'): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [14, 14, 1], kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: outputs, activation: head, kernelInitializer: init(3) }),
    ],
  });
}

/** A K+1 MLP with BatchNorm: dense(16) → BN → relu → dense(11, softmax), seeded. */
export function buildBatchNormMlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 11, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

/** Exact counts of one kernel and its mask, read from the device (and how many masked weights are −0). */
export function kernelStats(weights: tf.Tensor, mask: tf.Tensor): { active: number; nonzeroOffMask: number; negativeZeros: number } {
  const w = weights.dataSync();
  const m = mask.dataSync();
  let active = 0;
  let nonzeroOffMask = 0;
  let negativeZeros = 0;
  m.forEach((bit, i) => {
    active += bit;
    if (bit === 0 && w[i] !== 0) nonzeroOffMask++;
    if (bit === 0 && Object.is(w[i], -0)) negativeZeros++;
  });
  return { active, nonzeroOffMask, negativeZeros };
}

/**
 * The live kernel and mask tensors of a kit, reached through its mask set (tests only: the public API exposes
 * counts, not the tensors).
 */
export function maskedKernels(kit: object): { name: string; kernel: tf.Variable; mask: tf.Variable }[] {
  const parts = (kit as unknown as { parts: { masks: { entries: { kernel: { name: string; variable: tf.Variable }; mask: tf.Variable }[] } } }).parts;
  return parts.masks.entries.map((e) => ({ name: e.kernel.name, kernel: e.kernel.variable, mask: e.mask }));
}

/**
 * Asserts, from the device, that every masked kernel of `kit` holds exactly `planned[i]` active positions (default:
 * the kit's own counts) and that every weight off its mask is exactly 0.
 */
export function expectExactMasks(kit: { callbacks: readonly tf.Callback[]; masks: readonly { active: number }[] }, planned?: readonly number[]): void {
  maskedKernels(kit).forEach(({ kernel, mask }, i) => {
    const s = kernelStats(kernel, mask);
    expect(s.active).toBe(planned ? planned[i] : kit.masks[i].active);
    expect(s.nonzeroOffMask).toBe(0);
    expect(s.negativeZeros).toBe(0); // masked weights are +0, bit for bit
  });
}

/**
 * A custom layer of no class the kit knows: y = x · kernel · scale, with a `kernel` [in, units] and a `scale`
 * [units]. For tests of `registerMaskableLayer` and of the layers-left-dense warning.
 */
export class ScaledDense extends tf.layers.Layer {
  static readonly className = 'ScaledDense';
  private kernel?: tf.LayerVariable;
  private scale?: tf.LayerVariable;

  constructor(private readonly config: { units: number; seed: number; inputShape?: number[] }) {
    super(config);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const inputs = (inputShape as tf.Shape)[(inputShape as tf.Shape).length - 1] as number;
    this.kernel = this.addWeight('kernel', [inputs, this.config.units], 'float32', tf.initializers.glorotUniform({ seed: this.config.seed }));
    this.scale = this.addWeight('scale', [this.config.units], 'float32', tf.initializers.ones());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...(inputShape as tf.Shape).slice(0, -1), this.config.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(tf.matMul(Array.isArray(inputs) ? inputs[0] : inputs, this.kernel!.read()), this.scale!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.config.units, seed: this.config.seed };
  }
}
tf.serialization.registerClass(ScaledDense);
