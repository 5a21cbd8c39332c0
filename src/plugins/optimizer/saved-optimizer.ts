import * as tf from '@tensorflow/tfjs';
import { MoonModelError } from '../../core/errors';

type NamedTensor = { name: string; tensor: tf.Tensor };

/** The name under which the optimizer wrapper saves its inner optimizer's own step counter, beside its own `iter`. */
export const INNER_ITER = 'inner/iter';

/**
 * The wrapper saves `[iter, inner/iter, slots…]`; the inner optimizer reads `[iter, slots…]` with its own count (the
 * one Adam's bias correction needs: mask-update steps skip the inner step).
 */
function asInnerWeights(weights: NamedTensor[]): NamedTensor[] {
  const innerIter = weights.find((w) => w.name === INNER_ITER);
  if (innerIter === undefined) return weights;
  return [{ name: 'iter', tensor: innerIter.tensor }, ...weights.slice(1).filter((w) => w !== innerIter)];
}

/**
 * What `tf.loadLayersModel` builds for a model saved with `includeOptimizer` while it was compiled with a kit's
 * optimizer wrapper: the plain inner optimizer (a loaded model has no kit, hence no masks), restored with its own
 * slots and step counter. A kit for the loaded model wraps a fresh optimizer; to continue sparse training exactly,
 * resume from a kit checkpoint instead.
 * @param config the wrapper's `getConfig()`: `{ inner: className, innerConfig }`
 */
export function innerOptimizerFromConfig(config: tf.serialization.ConfigDict): tf.Optimizer {
  const { inner: className, innerConfig } = config as { inner?: unknown; innerConfig?: unknown };
  const registered = typeof className === 'string' && className !== 'MaskedOptimizer' ? tf.serialization.SerializationMap.getMap().classNameMap[className] : undefined;
  if (registered === undefined || innerConfig === null || typeof innerConfig !== 'object') {
    throw new MoonModelError(
      `the saved optimizer is a tfjs-moon wrapper around ${JSON.stringify(className)}, which TF.js cannot build: the training config is damaged; ` +
        'load the model without it (strip trainingConfig) or re-save it',
    );
  }
  const [cls, fromConfig] = registered;
  const optimizer = fromConfig(cls, innerConfig as tf.serialization.ConfigDict) as tf.Optimizer;
  const setWeights = optimizer.setWeights.bind(optimizer);
  optimizer.setWeights = (weights: NamedTensor[]) => setWeights(asInnerWeights(weights));
  return optimizer;
}
