import fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { createMoon, exportSparse, loadSparse, MoonError, type MoonOptions } from '../src';
import { sha256 } from '../src/plugins/checkpoint/checkpoint-files';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';

// Property-based tests (#21): random mutations of every file a loader reads. Each mutated input either loads or
// throws a MoonError; it never leaks a tensor, never grows memory past a bound, and never brings a byte from outside
// its folder into a model. The loaders are backend-independent host code, so this runs in the cpu project only.
// RUNS says how many mutated inputs one CI run tries (docs/RESULTS.md, "Reliability").

export const RUNS = { modelJson: 300, weightBytes: 200, sparseDenseWeights: 150, checkpointManifest: 150 };
const SEED = 20261202;
const onCpu = process.env.TFJS_TEST_BACKEND === 'cpu' ? describe : describe.skip;
const MEMORY_BOUND = 256 * 2 ** 20;
/** A value no real weight holds: if it shows up in a loaded model, bytes from outside the folder were read. */
const CANARY = 98765.4321;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path (list of keys) into a JSON document, the root included. */
function jsonPaths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => jsonPaths(v, [...prefix, i])));
  if (value !== null && typeof value === 'object') return here.concat(...Object.entries(value).map(([k, v]) => jsonPaths(v, [...prefix, k])));
  return here;
}

/** A copy of `doc` with the node at `at` (modulo the number of paths) replaced by `by`, or deleted. */
function mutated(doc: Json, at: number, by: Json | undefined): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  const paths = jsonPaths(copy).slice(1);
  const target = paths[at % paths.length];
  let node = copy as Record<string | number, Json>;
  for (const key of target.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = target[target.length - 1];
  if (by === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = by;
  return copy;
}

/** What a stranger would put in a file: hostile numbers and names, and any JSON. */
const hostileValue: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constantFrom<Json | undefined>(undefined, -1, -3, 0, 1, 99, 2 ** 28, 2 ** 31, 2 ** 53, 1e308, -0.5, '../secret.bin', '/dev/zero', 'weights.bin', '', null, [], {}, true, 'int32', 'bool', 'indices', 'bitmask', 'dense', [1e9, 1e9]),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'moon-fuzz-'));

/** Loads `dir` and checks the property: a model, or a MoonError; no leak, bounded memory, no canary. */
async function loadsOrRefuses(dir: string, kernels: 'dense' | 'sparse' = 'dense'): Promise<void> {
  const tensors = tf.memory().numTensors;
  const memory = process.memoryUsage().arrayBuffers;
  let model: tf.LayersModel | undefined;
  try {
    model = await loadSparse(`file://${dir}`, { kernels });
  } catch (error) {
    if (!(error instanceof MoonError)) throw new Error(`not a MoonError: ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  expect(process.memoryUsage().arrayBuffers - memory).toBeLessThan(MEMORY_BOUND);
  if (model !== undefined) {
    for (const w of model.getWeights()) expect(Array.from(await w.data())).not.toContain(CANARY);
    model.dispose();
  }
  expect(tf.memory().numTensors).toBe(tensors);
}

onCpu('fuzzed loaders', () => {
  let root: string;
  let folder: string;
  let json: Json;
  let weights: Buffer;
  let sparseFolder: string;
  let sparseJson: Json;
  let sparseWeights: Buffer;

  beforeAll(async () => {
    root = tmp();
    // Outside the model folders: a file of canaries that a path escape would read.
    fs.writeFileSync(path.join(root, 'secret.bin'), Buffer.from(new Float32Array(4096).fill(CANARY).buffer));
    folder = path.join(root, 'plain');
    const model = buildMlp(1, 4, 8);
    model.layers[0].setWeights([tf.mul(model.layers[0].getWeights()[0], tf.randomUniform([8, 32], 0, 1, 'float32', 3).greater(0.9)), model.layers[0].getWeights()[1]]);
    await exportSparse(model, `file://${folder}`);
    json = JSON.parse(fs.readFileSync(path.join(folder, 'model.json'), 'utf8'));
    weights = fs.readFileSync(path.join(folder, 'weights.bin'));
    // A model whose file holds SparseDense layers (converted, then exported as such).
    sparseFolder = path.join(root, 'sparse');
    await exportSparse(await loadSparse(`file://${folder}`, { kernels: 'sparse' }), `file://${sparseFolder}`);
    sparseJson = JSON.parse(fs.readFileSync(path.join(sparseFolder, 'model.json'), 'utf8'));
    sparseWeights = fs.readFileSync(path.join(sparseFolder, 'weights.bin'));
    expect(JSON.stringify(sparseJson)).toContain('SparseDense');
  });

  const writeCase = (doc: Json, bytes: Buffer): string => {
    const dir = path.join(root, `case-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    fs.writeFileSync(path.join(dir, 'weights.bin'), bytes);
    return dir;
  };

  const byteEdits = fc.array(fc.record({ at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(-1)) }), { minLength: 1, maxLength: 8 });
  /** The bytes with the edits applied: a value sets a byte, −1 truncates there. */
  const edited = (bytes: Buffer, edits: { at: number; value: number }[], grow: number): Buffer => {
    let out = Buffer.concat([bytes, Buffer.alloc(grow)]);
    for (const { at, value } of edits) {
      const i = at % out.length;
      if (value < 0) out = out.subarray(0, i);
      else out[i] = value;
      if (out.length === 0) break;
    }
    return Buffer.from(out);
  };

  test(`${RUNS.modelJson} mutations of model.json (topology, weights manifest, compact metadata)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), hostileValue, async (at, by) => loadsOrRefuses(writeCase(mutated(json, at, by), weights))),
      { numRuns: RUNS.modelJson, seed: SEED },
    );
  }, 300000);

  test(`${RUNS.weightBytes} mutations of the compact-encoded weight bytes`, async () => {
    await fc.assert(
      fc.asyncProperty(byteEdits, fc.constantFrom(0, 0, 4, 64), async (edits, grow) => loadsOrRefuses(writeCase(json, edited(weights, edits, grow)))),
      { numRuns: RUNS.weightBytes, seed: SEED },
    );
  }, 300000);

  test(`${RUNS.sparseDenseWeights} mutations of SparseDense layouts and their model.json; a model that loads predicts`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), hostileValue, byteEdits, async (inJson, at, by, edits) => {
        const dir = inJson ? writeCase(mutated(sparseJson, at, by), sparseWeights) : writeCase(sparseJson, edited(sparseWeights, edits, 0));
        await loadsOrRefuses(dir, 'dense');
        let model: tf.LayersModel | undefined;
        try {
          model = await loadSparse(`file://${dir}`);
        } catch (error) {
          expect(error).toBeInstanceOf(MoonError);
          return;
        }
        const x = tf.ones([2, 8]);
        const tensors = tf.memory().numTensors;
        try {
          const y = model.predict(x) as tf.Tensor;
          await y.data();
          y.dispose();
        } catch (error) {
          // A mutated input shape makes TF.js's own input check refuse our [2, 8] input (a ValueError): fine, the
          // model is what its file says. Anything a kernel reached is a MoonError.
          expect(error instanceof MoonError || (error as Error).constructor.name === 'ValueError').toBe(true);
        }
        expect(tf.memory().numTensors).toBe(tensors);
        x.dispose();
        model.dispose();
      }),
      { numRuns: RUNS.sparseDenseWeights, seed: SEED },
    );
  }, 300000);

  test(`${RUNS.checkpointManifest} mutations of a checkpoint manifest (valid checksums): resume or a MoonError, the model unchanged`, async () => {
    const options = (model: tf.LayersModel, resumeFrom?: string): MoonOptions => ({
      model, numClasses: 10, epochs: 4, stepsPerEpoch: 3, sparsity: 0.8, sparsifier: 'set', seed: 9, preset: 'as-released',
      mask: { interval: 2, endStep: 8 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 1 }, resumeFrom,
    });
    const ckpt = path.join(root, 'ckpt');
    const kit = createMoon(options(buildMlp(3, 11)));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    const { xs, ys } = mnistSubset(6);
    const labels = kit.labels(ys);
    await kit.model.fit(xs, labels, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    tf.dispose([xs, ys, labels]);
    await kit.checkpoint(ckpt);
    kit.dispose();
    const manifest = JSON.parse(fs.readFileSync(path.join(ckpt, 'manifest.json'), 'utf8')) as Json;
    const model = buildMlp(42, 11);
    const snapshot = async () => Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.nat(), hostileValue, async (at, by) => {
        const dir = path.join(root, `ckpt-${Math.random().toString(36).slice(2)}`);
        fs.cpSync(ckpt, dir, { recursive: true });
        const text = JSON.stringify(mutated(manifest, at, by));
        fs.writeFileSync(path.join(dir, 'manifest.json'), text);
        fs.writeFileSync(path.join(dir, 'manifest.json.sha256'), sha256(text));
        const tensors = tf.memory().numTensors;
        try {
          createMoon(options(model, dir)).dispose();
          // A mutation the kit accepts (e.g. a timestamp) resumes: restore the weights for the next case.
          tf.tidy(() => model.setWeights(before.map((values, i) => tf.tensor(values, model.weights[i].shape as number[]))));
        } catch (error) {
          if (!(error instanceof MoonError)) throw new Error(`not a MoonError: ${(error as Error)?.name}: ${(error as Error)?.message}`);
          expect(await snapshot()).toEqual(before);
          expect(tf.memory().numTensors).toBe(tensors);
        }
      }),
      { numRuns: RUNS.checkpointManifest, seed: SEED },
    );
  }, 300000);
});
