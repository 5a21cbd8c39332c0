import * as tf from '@tensorflow/tfjs';
import { CliError } from './cli-error';

/** The benchmark's architectures. */
export type ModelName = 'mlp' | 'lenet5' | 'vgg-bn';
export const MODEL_NAMES: readonly ModelName[] = ['mlp', 'lenet5', 'vgg-bn'];

/** Whether the model takes flat 784-vectors (MLP) or 28×28×1 images (CNNs). */
export function inputShapeOf(model: ModelName): number[] {
  return model === 'mlp' ? [784] : [28, 28, 1];
}

/** The output layer's activation: softmax (probabilities) or linear (logits). */
export type HeadActivation = 'softmax' | 'linear';

/**
 * Builds a model with `outputs` softmax (or, with `head: 'linear'`, logit) units (K, or K + 1 with an "unknown" unit), initializers seeded:
 * - `mlp`: LeNet-300-100 (784-300-100-outputs, ReLU);
 * - `lenet5`: Conv(6, 5×5, same) → MaxPool → Conv(16, 5×5) → MaxPool → Dense 120 → Dense 84 → outputs;
 * - `vgg-bn`: [Conv(16, 3×3) → BN → ReLU] ×2 → MaxPool → [Conv(32, 3×3) → BN → ReLU] ×2 → MaxPool → Dense 128 → outputs.
 */
export function buildModel(name: ModelName, outputs: number, seed: number, head: HeadActivation = 'softmax'): tf.LayersModel {
  let k = 0;
  const init = () => tf.initializers.heNormal({ seed: seed * 100 + ++k });
  const dense = (units: number, activation: 'relu' | HeadActivation = 'relu', extra: object = {}) =>
    tf.layers.dense({ units, activation, kernelInitializer: init(), ...extra });
  const conv = (filters: number, kernelSize: number, extra: object = {}) =>
    tf.layers.conv2d({ filters, kernelSize, kernelInitializer: init(), ...extra });
  switch (name) {
    case 'mlp':
      return tf.sequential({ layers: [dense(300, 'relu', { inputShape: [784] }), dense(100), dense(outputs, head)] });
    case 'lenet5':
      return tf.sequential({
        layers: [
          conv(6, 5, { padding: 'same', activation: 'relu', inputShape: [28, 28, 1] }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          conv(16, 5, { activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          dense(120),
          dense(84),
          dense(outputs, head),
        ],
      });
    case 'vgg-bn': {
      const block = (filters: number, first = false) => [
        conv(filters, 3, { padding: 'same', useBias: false, ...(first ? { inputShape: [28, 28, 1] } : {}) }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
      ];
      return tf.sequential({
        layers: [
          ...block(16, true),
          ...block(16),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          ...block(32),
          ...block(32),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          dense(128),
          dense(outputs, head),
        ],
      });
    }
    default:
      throw new CliError(`unknown model ${JSON.stringify(name)}: use ${MODEL_NAMES.join(', ')}`, 2);
  }
}
