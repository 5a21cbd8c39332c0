/**
 * A long run of the larger model: VGG-BN with MOON (RigL, 90%) for 20 epochs on a seeded 1,000-image Fashion-MNIST
 * subset (or MNIST-6 when Fashion-MNIST is not installed), with every kit callback, a reliability monitor and a
 * checkpoint callback. Records tf.memory().numTensors and the JS heap at every epoch end.
 *
 *   npm run bench:long-run
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon } from '../src';
import { useBackend } from '../src/cli/backend';
import { fashionAvailable, loadExperiment, DEFAULT_FASHION_DIR } from '../src/cli/datasets/datasets';
import { buildModel } from '../src/cli/models';

async function main(): Promise<void> {
  const backend = await useBackend('auto');
  const dataset = fashionAvailable(DEFAULT_FASHION_DIR) ? 'fashion-mnist' : 'mnist6';
  const e = loadExperiment(dataset, { seed: 1, trainLimit: 1000, testLimit: 300 });
  const epochs = 20;
  const model = buildModel('vgg-bn', e.numClasses + 1, 1);
  const batchSize = 50;
  const kit = createMoon({ model, numClasses: e.numClasses, epochs, stepsPerEpoch: Math.ceil(e.train.count / batchSize), sparsity: 0.9, seed: 1 });
  const x = tf.tensor4d(e.train.x, [e.train.count, 28, 28, 1]);
  const y = kit.labels(tf.oneHot(tf.tensor1d(e.train.labels, 'int32'), e.numClasses).toFloat());
  const monitor = kit.monitor({ id: { x: tf.tensor4d(e.test.x, [e.test.count, 28, 28, 1]), y: e.test.labels }, ood: { [e.ood[0].name]: tf.tensor4d(e.ood[0].set.x, [e.ood[0].set.count, 28, 28, 1]) }, everyEpochs: 5 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'long-run-'));
  const tensors: number[] = [];
  const heapMiB: number[] = [];
  let held = 0;
  const probe = new (class extends tf.Callback {
    override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
      held += Object.values(logs ?? {}).filter((v) => (v as unknown) instanceof tf.Tensor).length; // History's loss tensors
      tensors.push(tf.memory().numTensors - held);
      heapMiB.push(+(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1));
      console.error(`epoch ${epoch + 1}/${epochs}: numTensors ${tensors.at(-1)}, heap ${heapMiB.at(-1)} MiB`);
    }
  })();
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
  const started = Date.now();
  await model.fit(x, y, { epochs, batchSize, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor, kit.checkpointCallback({ dir, everyEpochs: 5, keep: 2 }), probe] });
  await kit.finalize(x);
  console.log(JSON.stringify({
    date: new Date().toISOString().slice(0, 10), backend, dataset, model: 'vgg-bn', parameters: model.countParams(), epochs, samples: e.train.count,
    seconds: +((Date.now() - started) / 1000).toFixed(1), tensorsAtEpochEnd: tensors, heapMiBAtEpochEnd: heapMiB, voterSnapshotWeights: model.trainableWeights.length,
  }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
