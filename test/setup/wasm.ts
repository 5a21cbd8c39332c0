import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../src';

process.env.TFJS_TEST_BACKEND = 'wasm';

beforeAll(async () => {
  registerWasmTrainingKernels(); // as a user training convolutions on wasm would
  await tf.setBackend('wasm');
  await tf.ready();
});
