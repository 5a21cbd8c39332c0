import * as tf from '@tensorflow/tfjs';
import { MoonOptimizerError } from '../../core/errors';

/** The optimizer names `model.compile` accepts (tfjs-layers' `getOptimizer`), lower-case and as TF.js spells them. */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'rmsprop', 'adagrad', 'adadelta', 'SGD', 'Adam', 'RMSProp', 'Adagrad', 'Adadelta'] as const;

/** Why the kit refuses Adamax, by name or as an object: its moments are out of reach. */
export const ADAMAX_REFUSAL =
  'Adamax is not supported: TF.js does not expose its moments (getWeights() is not implemented), which the kit must zero ' +
  "where weights grow and save in checkpoints; use 'adam' (or tf.train.adam(…)) instead";

/** A name of {@link OPTIMIZER_NAMES}. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * The optimizer `model.compile({ optimizer: name })` would build, with tfjs-layers' defaults (`getOptimizer`): sgd
 * 0.01, adam 0.001 (β 0.9 / 0.999), rmsprop 0.001 (decay 0.9), adagrad 0.01, adadelta 1 (ρ 0.95); ε is the
 * backend's. Adamax, which TF.js also names, is refused by the kit (its moments cannot be reached).
 */
export function optimizerFromName(name: string): tf.Optimizer {
  const epsilon = tf.backend().epsilon();
  switch (name.toLowerCase()) {
    case 'sgd':
      return tf.train.sgd(0.01);
    case 'adam':
      return tf.train.adam(0.001, 0.9, 0.999, epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(0.001, 0.9, 0, epsilon);
    case 'adagrad':
      return tf.train.adagrad(0.01);
    case 'adadelta':
      return tf.train.adadelta(1, 0.95, epsilon);
    case 'adamax':
      throw new MoonOptimizerError(ADAMAX_REFUSAL);
    default:
      throw new MoonOptimizerError(
        `unknown optimizer name ${JSON.stringify(name)}: kit.optimizer takes 'sgd', 'adam', 'rmsprop', 'adagrad' or 'adadelta' ` +
          `(with TF.js's defaults), or an optimizer, e.g. kit.optimizer(tf.train.momentum(0.1, 0.9))`,
      );
  }
}
