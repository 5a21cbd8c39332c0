// The mask-update measurement on webgl, in the page (bench/mask-update.ts serves it).
import * as tf from '@tensorflow/tfjs';
import * as moon from 'tfjs-moon';
import { measureMaskUpdate } from './mask-update-core';

const { REPS, TOPK_REPS } = globalThis as unknown as { REPS: number; TOPK_REPS: number };
(globalThis as unknown as { timing: Promise<unknown> }).timing = (async () => {
  await tf.setBackend('webgl');
  return measureMaskUpdate(tf, moon, REPS, TOPK_REPS);
})();
