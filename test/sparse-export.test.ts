import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, exportSparse, loadSparse, MoonConfigError, sizeReport } from '../src';
import { bestEncoding, decodeWeights, encodeWeights } from '../src/plugins/export/sparse-codec';
import { mnistImages14, mnistSubset } from './helpers/data';
import { buildCnn, buildMlp } from './helpers/models';

/** The model's weights as raw bytes, for a bit-for-bit comparison. */
const bytesOf = (model: tf.LayersModel) => model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer).toString('base64'));

/** A model trained sparsely (90%, RigL) for one epoch, so its zeros come from the engine. */
async function trainedSparse(kind: 'mlp' | 'cnn'): Promise<tf.LayersModel> {
  const model = kind === 'mlp' ? buildMlp(2) : buildCnn(2);
  const { xs, ys } = kind === 'mlp' ? mnistSubset(4) : mnistImages14(4);
  const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 2, sparsity: 0.9, seed: 1, unknownAware: false, mask: { interval: 1 } });
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
  await model.fit(xs, ys, { epochs: 2, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
  tf.dispose([xs, ys]);
  return model;
}

describe('compact sparse export', () => {
  it.each(['mlp', 'cnn'] as const)('%s: file:// and in-memory round trips restore every weight bit for bit', async (kind) => {
    const model = await trainedSparse(kind);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-')), 'model');
    await exportSparse(model, `file://${dir}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const fromFile = await loadSparse(`file://${dir}`);
    expect(bytesOf(fromFile)).toEqual(bytesOf(model));

    let saved: tf.io.ModelArtifacts | undefined;
    await exportSparse(model, tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const fromMemory = await loadSparse(tf.io.fromMemory(saved!));
    expect(bytesOf(fromMemory)).toEqual(bytesOf(model));
    // The loaded model computes what the original does.
    const x = tf.randomUniform(kind === 'mlp' ? [3, 784] : [3, 14, 14, 1], 0, 1, 'float32', 2);
    expect(Array.from((fromFile.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    // The weights file is compact: at 90% sparsity close to 0.1 + 1/32 of the dense bytes.
    const report = await sizeReport(model);
    expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBe(report.compactBytes);
    // A bitmask costs 1/32 of the dense bytes, the nonzeros 4 bytes each; biases and layers ERK keeps dense are stored
    // dense. So compact ≤ (dense-stored bytes + Σ masked (n/8 + 4·nnz)), which for a 90%-sparse model of real size
    // is about 0.1 + 1/32 = 0.131 of the dense bytes (the MLP here; the tiny CNN's 34 biases and dense first conv weigh more).
    const bound = model.getWeights().reduce((s, w) => {
      const v = w.dataSync();
      const nnz = Array.from(v).filter((x) => x !== 0).length;
      return s + Math.min(4 * v.length, 4 * Math.ceil(v.length / 32) + 4 * nnz, 8 * nnz);
    }, 0);
    expect(report.compactBytes).toBe(bound);
    if (kind === 'mlp') expect(report.ratio).toBeLessThanOrEqual(0.14);
    expect(report.gzipBytes!).toBeGreaterThan(report.compactBytes);
  });

  it('picks the smallest encoding and decodes it exactly', () => {
    expect([bestEncoding(1000, 1000), bestEncoding(1000, 500), bestEncoding(1000, 10)]).toEqual(['dense', 'bitmask', 'indices']);
    const values = Float32Array.from([0, 1.5, 0, 0, -2, 0, 0, 0, 3e-8, 0, 0, 0]);
    const dense = Float32Array.from([1, 2, 3]);
    const ints = Int32Array.from([7, -1]);
    const data = new Uint8Array([...new Uint8Array(values.buffer), ...new Uint8Array(dense.buffer), ...new Uint8Array(ints.buffer)]).buffer;
    const specs = [{ name: 'a', shape: [3, 4], dtype: 'float32' }, { name: 'b', shape: [3], dtype: 'float32' }, { name: 'c', shape: [2], dtype: 'int32' }];
    const encoded = encodeWeights(specs, data);
    expect(encoded.weights.map((w) => [w.name, w.encoding, w.nonzero])).toEqual([['a', 'bitmask', 3], ['b', 'dense', 3], ['c', 'dense', 2]]);
    const decoded = decodeWeights(encoded.weights, encoded.data);
    expect(Buffer.from(decoded.data).equals(Buffer.from(data))).toBe(true);
  });

  it('loads plain artifacts as they are, refuses a newer format, and names a missing model', async () => {
    const model = buildMlp(1);
    let plain: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      plain = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect((await loadSparse(tf.io.fromMemory(plain!))).getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    let compact: tf.io.ModelArtifacts | undefined;
    await exportSparse(model, tf.io.withSaveHandler(async (a) => {
      compact = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const newer = { ...compact!, userDefinedMetadata: { tfjsMoonSparse: { ...(compact!.userDefinedMetadata!.tfjsMoonSparse as object), version: 99 } } };
    await expect(loadSparse(tf.io.fromMemory(newer))).rejects.toThrow(/format 99, newer than this tfjs-moon reads/);
    await expect(loadSparse('file:///nonexistent/model')).rejects.toThrow(MoonConfigError);
    await expect(loadSparse('file:///nonexistent/model')).rejects.toThrow(/no model at file:\/\/\/nonexistent\/model/);
  });
});
