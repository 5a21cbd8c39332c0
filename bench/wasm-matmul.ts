/**
 * Dense training on wasm with tfjs-wasm's own BatchMatMul vs the `speedups` one (explicit transpose + plain product
 * when a transpose flag is set): one training step of LeNet-300-100 (batch 64, momentum SGD, plain model.fit path via
 * trainOnBatch), the two kernels swapped in and out repetition by repetition in one process.
 *
 *   npm run bench:wasm-matmul                 # 9 repetitions of 20 steps each
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fastBatchMatMul } from '../src/plugins/backends/wasm-training-kernels';
import { mlpTrainingStep } from './training-step';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  const original = tf.getKernel('BatchMatMul', 'wasm')!;
  const use = (fast: boolean) => {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ ...original, kernelFunc: fast ? fastBatchMatMul(original.kernelFunc) : original.kernelFunc });
  };
  const training = mlpTrainingStep(tf, [300, 100]);
  const steps = 20;
  const time = async () => {
    const start = performance.now();
    for (let s = 0; s < steps; s++) await training.step();
    return (performance.now() - start) / steps;
  };
  const reps = Number(option('reps', '9'));
  const timings = { original: [] as number[], fast: [] as number[] };
  use(false);
  await time();
  use(true);
  await time(); // warm-up of both
  for (let r = 0; r < reps; r++) {
    use(false);
    timings.original.push(await time());
    use(true);
    timings.fast.push(await time());
  }
  use(false);
  training.dispose();
  const ratios = timings.fast.map((f, i) => f / timings.original[i]);
  console.log(`LeNet-300-100 training step on wasm, batch 64, ${reps} interleaved repetitions of ${steps} steps; ${os.cpus()[0].model}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`median ms per step: tfjs-wasm BatchMatMul ${median(timings.original).toFixed(2)}, with the speed-up ${median(timings.fast).toFixed(2)}; median ratio ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
