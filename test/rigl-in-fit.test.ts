import 'reflect-metadata'; // tsyringe needs it loaded before it is imported (as in tsyringe's README)
import * as tf from '@tensorflow/tfjs';
import { container } from 'tsyringe';
import { createMoon, registerSparsifier, RigLSparsifier, type MaskUpdateContext } from '../src';
import { maskedKernels } from './helpers/models';

/** RigL that keeps copies of what it was given and what it returned, for an independent check. */
class RecordingRigL extends RigLSparsifier {
  static seen: { layer: string; weights: number[]; mask: number[]; gradient: number[]; dropCount: number; out: number[] }[] = [];
  override updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const out = super.updateMask(ctx);
    RecordingRigL.seen.push({
      layer: ctx.layerName,
      weights: Array.from(ctx.weights.dataSync()),
      mask: Array.from(ctx.mask.dataSync()),
      gradient: Array.from(ctx.gradient!.dataSync()),
      dropCount: ctx.dropCount,
      out: Array.from(out.dataSync()),
    });
    return out;
  }
}

/** The RigL rule written out in plain JS: drop the k smallest active |w|, grow the k largest |g| among the rest. */
function expectedRigL(weights: number[], mask: number[], gradient: number[], k: number): number[] {
  const active = mask.map((_, i) => i).filter((i) => mask[i] === 1);
  const drop = new Set([...active].sort((a, b) => Math.abs(weights[a]) - Math.abs(weights[b])).slice(0, k));
  const next = mask.map((m, i) => (m === 1 && !drop.has(i) ? 1 : 0));
  const candidates = next.map((_, i) => i).filter((i) => next[i] === 0);
  for (const i of candidates.sort((a, b) => Math.abs(gradient[b]) - Math.abs(gradient[a])).slice(0, k)) next[i] = 1;
  return next;
}

it('RigL inside fit grows exactly the top-|gradient| positions, at weight 0 and with zeroed momentum', async () => {
  const userContainer = container.createChildContainer();
  registerSparsifier('recording-rigl', RecordingRigL, userContainer);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 12, activation: 'tanh', inputShape: [10], kernelInitializer: tf.initializers.randomNormal({ seed: 3 }) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ seed: 4 }) }),
    ],
  });
  const kit = createMoon({
    model, numClasses: 3, epochs: 1, stepsPerEpoch: 4, sparsity: 0.6, distribution: 'uniform', seed: 11,
    sparsifier: 'recording-rigl', container: userContainer, unknownAware: false, mask: { interval: 3, endStep: 4, dropFraction: 0.5 },
  });
  const wrapper = kit.optimizer(tf.train.momentum(0.1, 0.9));
  model.compile({ optimizer: wrapper, loss: 'categoricalCrossentropy' });
  const before = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));

  // Runs after the kit's callback: reads weights and momentum right after the update at step 3.
  const afterUpdate: { weights: number[][]; momentum: Map<string, number[]>; masks: number[][] } = { weights: [], momentum: new Map(), masks: [] };
  const probe = new (class extends tf.Callback {
    override async onBatchEnd(batch: number): Promise<void> {
      if (batch !== 2) return;
      afterUpdate.masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
      afterUpdate.weights = maskedKernels(kit).map((k) => Array.from(k.kernel.dataSync()));
      for (const w of await wrapper.inner.getWeights()) {
        afterUpdate.momentum.set(w.name, Array.from(w.tensor.dataSync()));
        if (w.name === 'iter') w.tensor.dispose();
      }
    }
  })();
  const xs = tf.randomNormal([16, 10], 0, 1, 'float32', 5);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3).toFloat();
  await model.fit(xs, ys, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe] });

  expect(RecordingRigL.seen).toHaveLength(2); // one update (step 3), two masked layers
  RecordingRigL.seen.forEach((s, layer) => {
    expect(s.mask).toEqual(before[layer]);
    expect(s.dropCount).toBeGreaterThan(0);
    expect(s.out).toEqual(expectedRigL(s.weights, s.mask, s.gradient, s.dropCount));
    expect(afterUpdate.masks[layer]).toEqual(s.out);
    const grown = s.out.map((_, i) => i).filter((i) => s.out[i] === 1 && s.mask[i] === 0);
    expect(grown.length).toBe(s.dropCount);
    const name = maskedKernels(kit)[layer].kernel.name;
    const momentum = afterUpdate.momentum.get(`${name}/momentum`)!;
    expect(momentum).toBeDefined();
    for (const i of grown) {
      expect(Math.abs(afterUpdate.weights[layer][i])).toBe(0);
      expect(Math.abs(momentum[i])).toBe(0);
    }
    // Momentum is really there elsewhere (the check above is not vacuous).
    expect(momentum.some((v, i) => s.out[i] === 1 && s.mask[i] === 1 && v !== 0)).toBe(true);
  });
  tf.dispose([xs, ys]);
  kit.dispose();
  model.dispose();
});
