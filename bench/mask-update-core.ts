/**
 * The mask-update measurement, written once for Node (cpu, wasm) and the browser (webgl): the cost of one RigL update
 * of a 1024×1024 Dense kernel (1.05M weights, 10% active, drop fraction 0.3) through tf.topk (the synchronous path)
 * and through the device selection (topKMaskAsync), against one training step of a model holding that layer
 * (784 → 1024 → 1024 → 10, batch 64, momentum SGD). The three are interleaved, repetition by repetition.
 */
import type * as TF from '@tensorflow/tfjs';
import type * as Moon from 'tfjs-moon';
import { mlpTrainingStep } from './training-step';

export interface MaskUpdateTiming {
  backend: string;
  weights: number;
  /** Median milliseconds. */
  trainStep: number;
  updateTopK: number;
  updateDevice: number;
  /** Whether both paths selected the same mask (true when tf.topk was not measured). */
  same: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * @param repetitions timed repetitions of the training step and the device update
 * @param topkRepetitions timed repetitions of the tf.topk update (0: not measured, NaN in the result; webgl's takes
 *   minutes per 1M weights on SwiftShader, so the browser run measures it once, untimed warm-up skipped)
 */
export async function measureMaskUpdate(tf: typeof TF, moon: typeof Moon, repetitions = 5, topkRepetitions = repetitions): Promise<MaskUpdateTiming> {
  const [rows, cols] = [1024, 1024];
  const active = Math.round(0.1 * rows * cols);
  const random = new moon.SeededRandom(1);
  const mask = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([rows, cols], 0, 1, 'float32', 2), 0.1), 'float32'));
  const weights = tf.tidy(() => tf.mul(tf.randomNormal([rows, cols], 0, 0.05, 'float32', 3), mask));
  const gradient = tf.randomNormal([rows, cols], 0, 1, 'float32', 4);
  const context = (): Moon.MaskUpdateContext => ({ layerName: 'dense', step: 100, weights, mask, gradient, active, dropFraction: 0.3, dropCount: Math.floor(0.3 * active), random });
  const rigl = new moon.RigLSparsifier();

  const training = mlpTrainingStep(tf, [1024, 1024], 5);

  const time = async (work: () => Promise<void>) => {
    const start = performance.now();
    await work();
    return performance.now() - start;
  };
  const step = () => time(training.step);
  const viaTopK = () => time(async () => {
    const out = tf.tidy(() => rigl.updateMask(context()));
    await out.data();
    out.dispose();
  });
  const viaDevice = () => time(async () => {
    const out = await rigl.updateMaskAsync(context());
    await out.data();
    out.dispose();
  });
  rigl.selection = 'device';
  await step();
  await viaDevice(); // warm-up: kernels compiled, shaders built
  if (topkRepetitions === repetitions) await viaTopK();
  const timings = { step: [] as number[], topk: [] as number[], device: [] as number[] };
  for (let r = 0; r < repetitions; r++) {
    timings.step.push(await step());
    if (r < topkRepetitions) timings.topk.push(await viaTopK());
    timings.device.push(await viaDevice());
  }
  const b = await rigl.updateMaskAsync(context());
  const a = topkRepetitions > 0 ? tf.tidy(() => rigl.updateMask(context())) : tf.clone(b);
  const same = tf.tidy(() => tf.equal(tf.sum(tf.abs(tf.sub(a, b))), 0));
  const result = {
    backend: tf.getBackend(),
    weights: rows * cols,
    trainStep: median(timings.step),
    updateTopK: timings.topk.length > 0 ? median(timings.topk) : NaN,
    updateDevice: median(timings.device),
    same: (await same.data())[0] === 1,
  };
  tf.dispose([mask, weights, gradient, a, b, same]);
  training.dispose();
  return result;
}
