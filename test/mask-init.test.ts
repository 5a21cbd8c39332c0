import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, exportSparse, loadSparse, type MaskWarningEvent } from '../src';
import { buildMlp, expectExactMasks, maskedKernels } from './helpers/models';

const base = { numClasses: 10, epochs: 2, stepsPerEpoch: 2, unknownAware: false, seed: 3 } as const;

/** The k largest |w| of a flat array, ties by lowest index, as a 0/1 array. */
function topAbs(w: Float32Array, k: number): number[] {
  const order = Array.from(w.keys()).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b);
  const mask = new Array<number>(w.length).fill(0);
  for (const i of order.slice(0, k)) mask[i] = 1;
  return mask;
}

describe('initial masks from the weights (mask.init)', () => {
  it("'magnitude' keeps exactly the largest |w| of each layer, with the planned counts", () => {
    const model = buildMlp(2);
    const before = model.layers.map((l) => l.getWeights()[0].dataSync().slice() as Float32Array);
    const random = createMoon({ ...base, model: buildMlp(2) });
    const kit = createMoon({ ...base, model, mask: { init: 'magnitude' } });
    expect(kit.maskSummary.map((m) => m.active)).toEqual(random.maskSummary.map((m) => m.active)); // the distribution's counts
    maskedKernels(kit).forEach(({ mask }, i) => expect(Array.from(mask.dataSync())).toEqual(topAbs(before[i], kit.maskSummary[i].active)));
    expectExactMasks(kit);
    // The kept weights are untouched.
    maskedKernels(kit).forEach(({ kernel, mask }, i) => {
      const w = kernel.dataSync();
      mask.dataSync().forEach((m, j) => m === 1 && expect(w[j]).toBe(before[i][j]));
    });
  });

  it("'nonzero' keeps the pattern of a model from loadSparse bit for bit", async () => {
    const model = buildMlp(5);
    const first = createMoon({ ...base, model, sparsity: 0.8 });
    const pattern = maskedKernels(first).map((k) => Array.from(k.mask.dataSync()));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-nonzero-'));
    await exportSparse(model, `file://${dir}`);
    const loaded = await loadSparse(`file://${dir}`);
    const weights = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    const kit = createMoon({ ...base, model: loaded, mask: { init: 'nonzero' } });
    expect(maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()))).toEqual(pattern);
    expect(kit.maskSummary.map((m) => m.active)).toEqual(first.maskSummary.map((m) => m.active));
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights); // nothing zeroed
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects an unknown init', () => {
    expect(() => createMoon({ ...base, model: buildMlp(), mask: { init: 'largest' as never } })).toThrow(/mask.init must be 'random', 'magnitude' or 'nonzero'/);
  });
});

describe('per-layer target sparsity (mask.layerSparsity)', () => {
  it('gives named layers their exact counts and the other layers the rest of the global budget', () => {
    const model = buildMlp(1);
    const names = model.layers.map((l) => l.name);
    const kit = createMoon({ ...base, model, sparsity: 0.9, mask: { layerSparsity: { [names[2]]: 0 } } });
    const [l0, l1, l2] = kit.maskSummary;
    expect(l2.active).toBe(l2.total); // kept dense, yet masked
    expect(l0.active + l1.active + l2.active).toBe(Math.round(0.1 * (l0.total + l1.total + l2.total)));
    const byFunction = createMoon({ ...base, model: buildMlp(1), sparsity: 0.9, mask: { layerSparsity: (layer) => (layer.index === 0 ? 0.92 : undefined) } });
    expect(byFunction.maskSummary[0].active).toBe(Math.round(0.08 * byFunction.maskSummary[0].total));
    expect(byFunction.maskSummary.reduce((s, m) => s + m.active, 0)).toBe(Math.round(0.1 * byFunction.maskSummary.reduce((s, m) => s + m.total, 0)));
  });

  it('rejects targets the global budget cannot hold, and bad values', () => {
    const firstOf = (model: tf.LayersModel) => model.layers[0].name; // layer names differ per model
    const a = buildMlp(1);
    expect(() => createMoon({ ...base, model: a, sparsity: 0.9, mask: { layerSparsity: { [firstOf(a)]: 0 } } })).toThrow(/leaves the other layers a density of/);
    const b = buildMlp(1);
    expect(() => createMoon({ ...base, model: b, mask: { layerSparsity: { [firstOf(b)]: 1.5 } } })).toThrow(/must be a number in \[0, 1\)/);
    expect(() => createMoon({ ...base, model: buildMlp(1), mask: { layerSparsity: [0.5] as never } })).toThrow(/must be an object of layer name/);
  });
});

describe('the few-weights warning', () => {
  it('names each layer left with fewer active weights than output units (sparsity 0.9999), once, and stays silent at 0.9', async () => {
    const seen: MaskWarningEvent[] = [];
    const model = buildMlp(5);
    const kit = createMoon({ ...base, model, sparsity: 0.9999, distribution: 'uniform' });
    kit.events.on('mask:warning', (w) => seen.push(w));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const names = model.layers.map((l) => l.name);
    expect(seen.filter((w) => w.kind === 'few-weights')).toHaveLength(1);
    const warning = seen.find((w) => w.kind === 'few-weights');
    expect(warning && warning.kind === 'few-weights' && warning.layers).toEqual(names); // one weight each for 32, 16 and 10 units
    expect(warning?.message).toMatch(new RegExp(`"${names[0]}" \\(1 for 32 units\\).*mask\\.denseLayers`));
    kit.dispose();
    const quiet: MaskWarningEvent[] = [];
    const fine = createMoon({ ...base, model: buildMlp(5), sparsity: 0.9 });
    fine.events.on('mask:warning', (w) => w.kind !== 'no-mask-update' && quiet.push(w)); // a 4-step plan has no update
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quiet).toEqual([]);
    fine.dispose();
  });
});

describe('the already-sparse warning', () => {
  const warnings = async (model: tf.LayersModel, mask?: object): Promise<MaskWarningEvent[]> => {
    const seen: MaskWarningEvent[] = [];
    const kit = createMoon({ ...base, model, ...(mask ? { mask } : {}) });
    kit.events.on('mask:warning', (w) => w.kind !== 'no-mask-update' && seen.push(w)); // these short plans have none
    await new Promise((resolve) => setTimeout(resolve, 50)); // the check reads asynchronously
    kit.dispose(); // one live kit per model: the next probe makes its own
    return seen;
  };

  it('fires once on a model whose kernels already hold zeros, not on a fresh one, not when init is chosen', async () => {
    const sparse = buildMlp(6);
    createMoon({ ...base, model: sparse, sparsity: 0.5, distribution: 'uniform' }).dispose(); // zeroes half of each kernel
    const fired = await warnings(sparse);
    expect(fired).toHaveLength(1);
    expect(fired[0].kind).toBe('already-sparse');
    expect(fired[0].message).toMatch(/mask: \{ init: 'nonzero' \}/);
    expect(fired[0].kind === 'already-sparse' && fired[0].zeroFractions[0]).toBeCloseTo(0.5, 3);
    expect(await warnings(buildMlp(7))).toEqual([]);
    expect(await warnings(sparse, { init: 'random' })).toEqual([]);
  });

  it('fires on a model trained in this process (its optimizer took steps), not when init is magnitude', async () => {
    const trained = buildMlp(9);
    trained.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([8, 784], 0, 1, 'float32', 2);
    await trained.fit(x, tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).toFloat(), { epochs: 2, batchSize: 4, verbose: 0 });
    const fired = await warnings(trained);
    expect(fired.map((w) => w.kind)).toEqual(['trained']);
    expect(fired[0].message).toMatch(/its optimizer took 4 steps.*mask: \{ init: 'magnitude' \}/);
    expect(await warnings(trained, { init: 'magnitude' })).toEqual([]);
    x.dispose();
  });
});
