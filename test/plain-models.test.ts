import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { fineTune } from '../examples/fine-tune';
import { createMoon, fileSystem, loadSparse, MoonConfigError, MoonModelError, SparseDense } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';

// Issue #22 rows 9 and 11: plain TF.js models on disk in Node without tfjs-node, and models saved with their
// (kit-wrapped) optimizer.

const tmp = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`)), 'model');
const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('plain TF.js models from disk, @tensorflow/tfjs alone (#22 row 9)', () => {
  it('fileSystem saves with model.save and loads with tf.loadLayersModel; loadSparse reads the same folder', async () => {
    const model = buildMlp(2);
    const dir = tmp('plain');
    await model.save(fileSystem(`file://${dir}`));
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await tf.loadLayersModel(fileSystem(`file://${dir}`));
    expect(values(loaded)).toEqual(values(model));
    const viaLoadSparse = await loadSparse(`file://${dir}`);
    expect(values(viaLoadSparse)).toEqual(values(model));
    expect(values(await tf.loadLayersModel(fileSystem(dir)))).toEqual(values(model)); // a plain path works too
  });

  it('reads a sharded folder as the Python converter writes it', async () => {
    const model = buildMlp(3);
    const dir = tmp('sharded');
    await model.save(fileSystem(`file://${dir}`));
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const bytes = fs.readFileSync(path.join(dir, 'weights.bin'));
    const cut = 4 * 1000;
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, cut));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), bytes.subarray(cut));
    fs.unlinkSync(path.join(dir, 'weights.bin'));
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    expect(values(await tf.loadLayersModel(fileSystem(`file://${dir}`)))).toEqual(values(model));
  });

  it("loadSparse(plain, { kernels: 'sparse' }) runs a pruned plain model's Dense layers sparse", async () => {
    const model = buildMlp(4);
    const pruned = model.getWeights().map((w) => tf.tidy(() => (w.rank === 2 ? tf.where(tf.greater(tf.abs(w), 0.1), w, tf.zerosLike(w)) : w.clone())));
    model.setWeights(pruned);
    const dir = tmp('pruned');
    await model.save(fileSystem(`file://${dir}`));
    const fast = await loadSparse(`file://${dir}`, { kernels: 'sparse' });
    expect(fast.layers.filter((l) => l instanceof SparseDense).length).toBe(3);
    const x = tf.randomUniform([4, 784], 0, 1, 'float32', 1);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const actual = (fast.predict(x) as tf.Tensor).dataSync();
    expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 5));
    tf.dispose([x, ...pruned]);
  });

  it('refuses a bad folder argument and quantized weights for sparse kernels, with what to do', async () => {
    expect(() => fileSystem('')).toThrow(MoonConfigError);
    // A Dense(2) on 2 inputs with its kernel quantized to uint8 (4 bytes), its bias float32 (8 bytes).
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const [kernel, bias] = saved!.weightSpecs!;
    const quantized = { ...saved!, weightSpecs: [{ ...kernel, quantization: { dtype: 'uint8' as const, scale: 0.01, min: -1 } }, bias], weightData: new Uint8Array(12).buffer };
    expect((await loadSparse(tf.io.fromMemory(quantized))).getWeights()[0].shape).toEqual([2, 2]); // dense kernels: fine
    await expect(loadSparse(tf.io.fromMemory(quantized), { kernels: 'sparse' })).rejects.toThrow(/reads float32 weights.*stored quantized \(uint8\): load it with kernels: 'dense'/);
    // A manifest that names or shapes a weight otherwise than the topology: refused before anything is built.
    const renamed = { ...saved!, weightSpecs: [{ ...kernel, name: 'other/kernel' }, bias] };
    await expect(loadSparse(tf.io.fromMemory(renamed))).rejects.toThrow(MoonModelError);
    await expect(loadSparse(tf.io.fromMemory(renamed))).rejects.toThrow(/do not match its topology: the topology has weight ".*kernel", the weights manifest does not/);
    const reshaped = { ...saved!, weightSpecs: [{ ...kernel, shape: [4, 1] }, bias] };
    await expect(loadSparse(tf.io.fromMemory(reshaped))).rejects.toThrow(/is \[4, 1\] in the manifest, \[2, 2\] in the topology/);
  });

  it("the guide's fine-tuning recipe runs as written, from a dense model saved on disk", async () => {
    const { xs, labels } = mnistSubset(30);
    const keep = labels.flatMap((l, i) => (l < 6 ? [i] : []));
    const x = tf.gather(xs, keep);
    const y = tf.tensor1d(keep.map((i) => labels[i]), 'int32');
    const dense = buildMlp(6, 6);
    dense.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await dense.fit(x, tf.oneHot(y, 6).toFloat(), { epochs: 3, batchSize: 16, verbose: 0 });
    const from = tmp('dense');
    await dense.save(fileSystem(`file://${from}`));
    const to = tmp('sparse');
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const model = await fineTune(x, y, 6, from, to, 3);
    log.mockRestore();
    expect(model.outputs[0].shape).toEqual([null, 7]);
    const compact = await loadSparse(`file://${to}`);
    expect(values(compact)).toEqual(values(model));
    const kernels = compact.weights.filter((w) => w.shape.length === 2).map((w) => w.read());
    const nonzero = kernels.reduce((s, k) => s + tf.tidy(() => tf.sum(tf.notEqual(k, 0).toInt()).dataSync()[0]), 0);
    const total = kernels.reduce((s, k) => s + k.size, 0);
    expect(nonzero / total).toBeCloseTo(0.1, 2);
    const guide = fs.readFileSync(path.join(__dirname, '..', 'docs', 'guide.md'), 'utf8');
    const source = fs.readFileSync(path.join(__dirname, '..', 'examples', 'fine-tune.ts'), 'utf8');
    const region = source.split('// #region fine-tune\n')[1].split('  // #endregion fine-tune')[0].replace(/^ {2}/gm, '');
    expect(guide).toContain(region);
    tf.dispose([xs, x, y]);
  });
});

describe('a kit-compiled model saved with includeOptimizer loads again (#22 row 11)', () => {
  it('with the inner optimizer, its slots and its own step count; recompiled, it trains', async () => {
    const model = buildMlp(7, 11);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, sparsity: 0.8, sparsifier: 'rigl', seed: 2, mask: { interval: 2 } });
    const wrapper = kit.optimizer('adam');
    model.compile({ optimizer: wrapper, loss: kit.loss });
    const { xs, ys } = mnistSubset(6);
    const labels = kit.labels(ys);
    await model.fit(xs, labels, { epochs: 1, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    expect(wrapper.iterations).toBe(3);
    const innerSlots = (await wrapper.inner.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]);
    const dir = tmp('with-optimizer');
    await model.save(fileSystem(`file://${dir}`), { includeOptimizer: true });

    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); // TF.js: a function loss is not serialisable
    const loaded = await tf.loadLayersModel(fileSystem(`file://${dir}`));
    warn.mockRestore();
    expect(values(loaded)).toEqual(values(model));
    expect(loaded.optimizer.getClassName()).toBe('Adam');
    // The step RigL took for its update (step 2) skipped Adam's: Adam's own count is 2, its slots are the inner ones.
    const restored = (await loaded.optimizer.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]);
    expect(restored).toEqual(innerSlots);
    expect(restored[0]).toEqual(['iter', [2]]);
    // TF.js cannot save a function loss: compile again (keeping the restored optimizer) and it trains.
    loaded.compile({ optimizer: loaded.optimizer, loss: 'categoricalCrossentropy' });
    const history = await loaded.fit(xs, labels, { epochs: 1, batchSize: 20, verbose: 0 });
    expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
    // loadSparse reads it too; with sparse kernels it leaves the optimizer state out.
    expect(values(await loadSparse(`file://${dir}`))).toEqual(values(model));
    expect((await loadSparse(`file://${dir}`, { kernels: 'sparse' })).layers.some((l) => l instanceof SparseDense)).toBe(true);
    kit.dispose();
    tf.dispose([xs, ys, labels]);
  });
});
