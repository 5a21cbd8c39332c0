/**
 * Speed and memory of the feature-space detectors at the scale of a full training set: fitting on 60,000 × 100
 * features and scoring 10,000 queries (the features are the input of a 100 → 10 head, so the time is the
 * detector's, not a network's). Each detector once after a small warm-up; times in seconds, memory as the bytes the
 * fitted statistics hold on the backend and the process's resident set size after scoring.
 *
 *   npm run bench:detector-speed                 # wasm, every feature-space detector
 *   npm run bench:detector-speed -- --backend cpu --n 20000
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fitDetector, SeededRandom } from '../src';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const backend = arg('backend', 'wasm');
const n = Number(arg('n', '60000'));
const queries = Number(arg('queries', '10000'));
const width = 100;
const names = arg('detectors', 'knn,mahalanobis,vim,rmds,fdbd').split(',');

/** Non-negative features with class structure (10 clusters), as a ReLU layer gives. */
function features(count: number, seed: number): { x: tf.Tensor2D; labels: Int32Array } {
  const random = new SeededRandom(seed);
  const centres = Array.from({ length: 10 }, () => Float32Array.from({ length: width }, () => 2 * random.next()));
  const labels = Int32Array.from({ length: count }, () => Math.floor(random.next() * 10));
  const values = new Float32Array(count * width);
  for (let i = 0; i < count; i++) for (let j = 0; j < width; j++) values[i * width + j] = Math.max(0, centres[labels[i]][j] + random.next() - 0.5);
  return { x: tf.tensor2d(values, [count, width]), labels };
}

(async () => {
  await tf.setBackend(backend);
  await tf.ready();
  const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [width], units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
  const train = features(n, 1);
  const test = features(queries, 2);
  const rows: Record<string, unknown>[] = [];
  for (const name of names) {
    const warm = await fitDetector(name, { model: head, x: train.x.slice(0, 2000), labels: train.labels.subarray(0, 2000), numClasses: 10, batchSize: 1024 });
    await warm.score(test.x.slice(0, 500));
    warm.dispose();
    const baseline = tf.memory().numBytes;
    let started = performance.now();
    const detector = await fitDetector(name, { model: head, x: train.x, labels: train.labels, numClasses: 10, batchSize: 1024 });
    const fitSeconds = (performance.now() - started) / 1000;
    const heldAfterFit = tf.memory().numBytes;
    started = performance.now();
    await detector.score(test.x);
    const scoreSeconds = (performance.now() - started) / 1000;
    rows.push({
      detector: name, n, queries, width, fitSeconds: +fitSeconds.toFixed(2), scoreSeconds: +scoreSeconds.toFixed(2),
      usPerQuery: +((1e6 * scoreSeconds) / queries).toFixed(1),
      statisticsMiB: +((heldAfterFit - baseline) / 2 ** 20).toFixed(1), rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    });
    detector.dispose();
    console.error(JSON.stringify(rows.at(-1)));
  }
  const result = {
    command: `npm run bench:detector-speed -- --backend ${backend} --n ${n} --queries ${queries}`,
    date: new Date().toISOString().slice(0, 10), backend, tfjs: tf.version.tfjs, node: process.version,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`, rows,
  };
  const file = path.join(__dirname, 'results', `detector-speed-${backend}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  console.log(`${file}\n${rows.map((r) => `${r.detector}: fit ${r.fitSeconds} s, score ${r.scoreSeconds} s (${r.usPerQuery} µs/query), statistics ${r.statisticsMiB} MiB on the backend, RSS ${r.rssMiB} MiB`).join('\n')}`);
})();
