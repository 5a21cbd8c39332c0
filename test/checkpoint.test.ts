import fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonCheckpointError, MoonTrainingError, type MoonOptions } from '../src';
import { sha256 } from '../src/plugins/checkpoint/checkpoint-files';
import { fitKit, fullStateOptions } from './helpers/checkpoint-kit';
import { mnistSubset } from './helpers/data';
import { leakProbe } from './helpers/leak-probe';
import { buildMlp, maskedKernels } from './helpers/models';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'moon-ckpt-'));
const bits = (model: tf.LayersModel) => model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer).toString('base64'));

const options = fullStateOptions;

describe('checkpoint and resume', () => {
  it('2 epochs + checkpoint + a new process-like resume + 2 epochs equals 4 uninterrupted epochs, bit for bit', async () => {
    const straight = createMoon(options(buildMlp(3, 11)));
    straight.model.compile({ optimizer: straight.optimizer(tf.train.momentum(0.05, 0.9)), loss: straight.loss });
    await fitKit(straight, 4, 0);
    await straight.finalize();

    const dir = tmp();
    const first = createMoon(options(buildMlp(3, 11)));
    first.model.compile({ optimizer: first.optimizer(tf.train.momentum(0.05, 0.9)), loss: first.loss });
    await fitKit(first, 2, 0, [first.checkpointCallback({ dir, keep: 1 })]);
    expect(fs.readdirSync(dir)).toEqual(['epoch-2']);

    // A new model with other initial weights and a new kit: everything must come from the checkpoint.
    const resumed = createMoon(options(buildMlp(42, 11), { resumeFrom: dir }));
    expect(resumed.resumeEpoch).toBe(2);
    resumed.model.compile({ optimizer: resumed.optimizer(tf.train.momentum(0.05, 0.9)), loss: resumed.loss });
    await fitKit(resumed, 4, resumed.resumeEpoch);
    await resumed.finalize();

    expect(bits(resumed.model)).toEqual(bits(straight.model));
    expect(maskedKernels(resumed).map((k) => Array.from(k.mask.dataSync()))).toEqual(maskedKernels(straight).map((k) => Array.from(k.mask.dataSync())));
    expect(resumed.model.optimizer.iterations).toBe(straight.model.optimizer.iterations);
  });

  it('loading a checkpoint of another architecture, K or kit, a corrupted file or a newer format fails and changes nothing', async () => {
    const dir = path.join(tmp(), 'ckpt');
    const kit = createMoon(options(buildMlp(3, 11)));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await fitKit(kit, 1, 0);
    await kit.checkpoint(dir);

    const expectRejected = (model: tf.LayersModel, extra: Partial<MoonOptions>, message: RegExp) => {
      const before = bits(model);
      expect(() => createMoon(options(model, { resumeFrom: dir, ...extra }))).toThrow(MoonCheckpointError);
      expect(() => createMoon(options(model, { resumeFrom: dir, ...extra }))).toThrow(message);
      expect(bits(model)).toEqual(before);
    };
    const wider = tf.sequential({ layers: [tf.layers.dense({ units: 40, inputShape: [784] }), tf.layers.dense({ units: 16 }), tf.layers.dense({ units: 11, activation: 'softmax' })] });
    expectRejected(wider, {}, /another architecture: weight 0 .* has shape \[784,32\], this model's has \[784,40\]/);
    expectRejected(buildMlp(3, 12), { numClasses: 11 }, /another architecture/);
    expectRejected(buildMlp(3, 11), { preset: 'recommended' }, /different kit: preset "as-released" there, "recommended" here/);
    expectRejected(buildMlp(3, 11), { mask: { interval: 2, endStep: 8, firstLayerDense: true } }, /masks other layers than this kit/);

    const state = path.join(dir, 'state.bin');
    const original = fs.readFileSync(state);
    const corrupted = Buffer.from(original);
    corrupted[10] ^= 0xff;
    fs.writeFileSync(state, corrupted);
    expectRejected(buildMlp(3, 11), {}, /corrupted: state.bin does not match its checksum/);
    fs.writeFileSync(state, original);

    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = fs.readFileSync(manifestFile, 'utf8');
    const newer = manifest.replace('"version": 1', '"version": 99');
    fs.writeFileSync(manifestFile, newer);
    expectRejected(buildMlp(3, 11), {}, /corrupted: manifest.json does not match its checksum/);
    fs.writeFileSync(path.join(dir, 'manifest.json.sha256'), sha256(newer));
    expectRejected(buildMlp(3, 11), {}, /format version 99, newer than this tfjs-moon reads \(1\): upgrade/);
    fs.writeFileSync(manifestFile, manifest);
    fs.writeFileSync(path.join(dir, 'manifest.json.sha256'), sha256(manifest));
    expect(createMoon(options(buildMlp(3, 11), { resumeFrom: dir })).resumeEpoch).toBe(1);
    expectRejected(buildMlp(3, 11), { resumeFrom: path.join(dir, 'nope') }, /no checkpoint at/);
  });

  it('a write interrupted before its rename leaves the previous checkpoint, which loads', async () => {
    const dir = tmp();
    const kit = createMoon(options(buildMlp(3, 11)));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await fitKit(kit, 1, 0);
    await kit.checkpoint(path.join(dir, 'epoch-1'));
    // Simulate a kill between the temporary write and the rename: the temporary directory stays, half written.
    fs.mkdirSync(path.join(dir, 'epoch-2.tmp-1234-1'));
    fs.writeFileSync(path.join(dir, 'epoch-2.tmp-1234-1', 'weights.bin'), Buffer.from([1, 2, 3]));
    expect(createMoon(options(buildMlp(3, 11), { resumeFrom: dir })).resumeEpoch).toBe(1);
    // And a failing rename surfaces as a typed error, leaving neither a partial checkpoint nor the temporary directory.
    const rename = jest.spyOn(fs, 'renameSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await expect(kit.checkpoint(path.join(dir, 'epoch-3'))).rejects.toThrow(/cannot write the checkpoint .*epoch-3: ENOSPC.*previous checkpoint \(if any\) is intact/);
    rename.mockRestore();
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-1', 'epoch-2.tmp-1234-1']);
    // The next write cleans up the stale temporary directory of its own target.
    await kit.checkpoint(path.join(dir, 'epoch-2'));
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-1', 'epoch-2']);
  });

  it('a disk error while writing surfaces as a typed error without partial files', async () => {
    const dir = tmp();
    const kit = createMoon(options(buildMlp(3, 11)));
    const write = jest.spyOn(fs, 'writeFileSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    });
    await expect(kit.checkpoint(path.join(dir, 'epoch-0'))).rejects.toThrow(MoonCheckpointError);
    write.mockRestore();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('NaN guard', () => {
  it('stops training with a typed error naming the step, before the epoch checkpoint is written', async () => {
    const dir = tmp();
    const kit = createMoon(options(buildMlp(3, 11), { preset: 'recommended' }));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await fitKit(kit, 1, 0, [kit.checkpointCallback({ dir })]);
    expect(fs.readdirSync(dir)).toEqual(['epoch-1']);
    const { xs, ys } = mnistSubset(6);
    const poisoned = tf.tidy(() => tf.concat([tf.slice(xs, 0, 40), tf.fill([20, 784], NaN)])); // the third batch (step 6)
    const labels = kit.labels(ys);
    await expect(
      kit.model.fit(poisoned, labels, { epochs: 2, initialEpoch: 1, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, kit.checkpointCallback({ dir })] }),
    ).rejects.toThrow(MoonTrainingError);
    expect(fs.readdirSync(dir)).toEqual(['epoch-1']); // the diverged epoch was not saved
    tf.dispose([xs, ys, poisoned, labels]);
  });

  it('names the step in its message', async () => {
    const kit = createMoon(options(buildMlp(3, 11), { preset: 'recommended', stepsPerEpoch: 2, mask: { interval: 100, endStep: 6 } }));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
    const xs = tf.fill([40, 784], NaN);
    const labels = kit.labels(tf.oneHot(tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 10), 'int32'), 10).toFloat());
    await expect(kit.model.fit(xs, labels, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(
      /the loss became NaN or infinite at optimizer step 1 \(epoch 1\).*Likely causes: a learning rate too high/,
    );
  });
});

describe('long run', () => {
  it('20 epochs with every callback on a CNN with BatchNorm keep numTensors flat and the heap bounded', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 1], useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }),
      ],
    });
    // interval 3: with 1, every step until endStep would be a mask update and Adam would create its slots only later.
    const kit = createMoon({ model, numClasses: 4, epochs: 20, stepsPerEpoch: 2, sparsity: 0.5, seed: 1, mask: { interval: 3 }, voter: { epochs: 4 } });
    const x = tf.randomNormal([32, 8, 8, 1], 0, 1, 'float32', 1);
    const y = kit.labels(tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 4), 'int32'), 4).toFloat());
    const monitor = kit.monitor({ id: { x, y: Array.from({ length: 32 }, (_, i) => i % 4) }, ood: { noise: tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) }, everyEpochs: 5 });
    const dir = tmp();
    const { callback: probe, counts } = leakProbe();
    const heap: number[] = [];
    const heapProbe = new (class extends tf.Callback {
      override async onEpochEnd(): Promise<void> {
        heap.push(process.memoryUsage().heapUsed);
      }
    })();
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: kit.loss });
    await model.fit(x, y, { epochs: 20, batchSize: 16, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor, kit.checkpointCallback({ dir, everyEpochs: 5, keep: 2 }), probe, heapProbe] });
    await kit.finalize(x);
    // Flat, except the voter's running average (one tensor per trainable weight) allocated once, at epoch 16.
    expect(new Set(counts.slice(0, 16)).size).toBe(1);
    expect(new Set(counts.slice(16)).size).toBe(1);
    expect(counts[16] - counts[15]).toBe(model.trainableWeights.length);
    expect(Math.max(...heap.slice(5)) - Math.min(...heap.slice(5))).toBeLessThan(64 * 2 ** 20); // no growth beyond GC noise
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-15', 'epoch-20']);
  });
});
