import * as tf from '@tensorflow/tfjs';

// Read by tests that only make sense on one backend (at collection time, before beforeAll runs).
process.env.TFJS_TEST_BACKEND = 'cpu';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
