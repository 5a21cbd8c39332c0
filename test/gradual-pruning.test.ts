import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonTrainingError, type MaskPruneEvent, type MoonOptions } from '../src';
import { isPruneStep, prunedCount } from '../src/plugins/schedules/pruning';
import { buildMlp, expectExactMasks, maskedKernels } from './helpers/models';

const schedule = { kind: 'polynomial' as const, initialSparsity: 0, beginStep: 2, endStep: 10, frequency: 2, power: 3 };

describe('the pruning schedule', () => {
  it('prunes at beginStep and every frequency steps to endStep', () => {
    expect(Array.from({ length: 14 }, (_, i) => i).filter((t) => isPruneStep(t, schedule))).toEqual([2, 4, 6, 8, 10]);
    expect(Array.from({ length: 14 }, (_, i) => i).filter((t) => isPruneStep(t, { ...schedule, frequency: 3 }))).toEqual([2, 5, 8, 10]); // endStep always
  });

  it('decays polynomially from the initial to the final count, reaching it exactly at endStep', () => {
    expect(prunedCount(0, schedule, 1000, 100)).toBe(1000);
    expect(prunedCount(2, schedule, 1000, 100)).toBe(1000);
    expect(prunedCount(6, schedule, 1000, 100)).toBe(Math.round(100 + 900 * 0.5 ** 3));
    expect(prunedCount(10, schedule, 1000, 100)).toBe(100);
    expect(prunedCount(12, schedule, 1000, 100)).toBe(100);
    expect(prunedCount(4, { ...schedule, kind: 'constant' }, 1000, 100)).toBe(100);
  });
});

describe('gradual magnitude pruning inside fit', () => {
  const base = (model: tf.LayersModel): MoonOptions => ({
    model, numClasses: 10, epochs: 3, stepsPerEpoch: 4, sparsity: 0.9, seed: 5, unknownAware: false, sparsifier: 'static',
    prune: { beginStep: 2, endStep: 10, frequency: 2 },
  });
  const data = () => ({ x: tf.randomNormal([16, 784], 0, 1, 'float32', 8), y: Array.from({ length: 16 }, (_, i) => i % 10) });

  async function fitAndRecord(options: MoonOptions, epochs = 3, initialEpoch = 0) {
    const kit = createMoon(options);
    const events: MaskPruneEvent[] = [];
    const updates: number[] = [];
    kit.events.on('mask:prune', (e) => events.push(e));
    kit.events.on('mask:update', (e) => updates.push(e.step));
    const { x, y } = data();
    options.model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
    await options.model.fit(x, kit.labels(y), { epochs, initialEpoch, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    x.dispose();
    return { kit, events, updates };
  }

  it('follows the schedule layer by layer, ends at the planned counts exactly, and never regrows', async () => {
    const planned = createMoon({ ...base(buildMlp(2)), prune: false }).maskSummary.map((m) => m.active);
    const { kit, events, updates } = await fitAndRecord(base(buildMlp(2)));
    expect(kit.maskSummary.map((m) => m.active)).toEqual(planned); // the final counts of sparsity 0.9
    expect(kit.density).toBeCloseTo(0.1, 3);
    expectExactMasks(kit);
    expect(updates).toEqual([]); // static: pruning alone
    const totals = kit.maskSummary.map((m) => m.total);
    // Each event's layer count is the schedule's count at its step.
    for (const e of events) {
      const i = kit.maskSummary.findIndex((m) => m.name === e.layer);
      expect(Math.round(e.density * totals[i])).toBe(prunedCount(e.step, { ...schedule }, totals[i], planned[i]));
    }
    expect([...new Set(events.map((e) => e.step))]).toEqual([4, 6, 8, 10]); // step 2 is still at the initial (dense) count
    expect(events.filter((e) => e.step === 10).every((e) => Math.abs(e.sparsity - 0.9) < 1e-3 || e.layer !== kit.maskSummary[2].name)).toBe(true);
  });

  it('reaches a layerSparsity target denser than the initial draw: that layer starts at its final count (#21)', async () => {
    const model = buildMlp(2);
    const name = model.layers[1].name;
    const options = { ...base(model), sparsity: 0.6, distribution: 'uniform' as const, prune: { initialSparsity: 0.5, beginStep: 2, endStep: 10, frequency: 2 }, mask: { layerSparsity: { [name]: 0.45 } } };
    const twin = buildMlp(2);
    const planned = createMoon({ ...options, model: twin, prune: false, mask: { layerSparsity: { [twin.layers[1].name]: 0.45 } } });
    const { kit } = await fitAndRecord(options);
    expect(kit.maskSummary.map((m) => m.active)).toEqual(planned.maskSummary.map((m) => m.active));
    expect(kit.maskSummary[1].density).toBeCloseTo(0.55, 2); // asked 0.45 sparsity; before, it stayed at the draw's 0.5
    expect(kit.density).toBeCloseTo(0.4, 3); // asked 0.6 overall; before, 0.3737
    expectExactMasks(kit);
    planned.dispose();
    kit.dispose();
  });

  it('prunes the smallest active |w|', async () => {
    const model = buildMlp(3);
    const kit = createMoon({ ...base(model), prune: { beginStep: 1, endStep: 4, frequency: 1, schedule: 'constant' } });
    const weights: Float32Array[] = [];
    const probe = new tf.CustomCallback({ onBatchBegin: async () => void (weights.length === 0 && weights.push(...maskedKernels(kit).map((k) => k.kernel.dataSync().slice() as Float32Array))) });
    // Constant schedule: everything is pruned at step 1, after the first step; record the weights it was pruned from.
    const { x, y } = data();
    const recorded: Float32Array[] = [];
    const afterStep = new tf.CustomCallback({ onBatchEnd: async (batch) => void (batch === 0 && recorded.length === 0 && recorded.push(...weights)) });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss }); // lr 0: the weights do not move
    await model.fit(x, kit.labels(y), { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks: [probe, ...kit.callbacks, afterStep] });
    maskedKernels(kit).forEach(({ mask }, i) => {
      const m = mask.dataSync();
      const kept = Array.from(recorded[i]).filter((_, j) => m[j] === 1).map(Math.abs);
      const pruned = Array.from(recorded[i]).filter((_, j) => m[j] === 0).map(Math.abs);
      expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...pruned));
    });
    x.dispose();
  });

  it('an infinite active weight stops pruning with a MoonTrainingError before any mask changes (no −1 in a mask)', async () => {
    const model = buildMlp(3);
    const kit = createMoon({ ...base(model), prune: { beginStep: 1, endStep: 4, frequency: 1, schedule: 'constant' } });
    const masksBefore = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
    // Before the kit's callbacks: after step 1, the pruning step sees +∞ at an active position of the last layer.
    const poison = new tf.CustomCallback({
      onBatchEnd: async (batch) => {
        if (batch !== 0) return;
        const { kernel, mask } = maskedKernels(kit)[2];
        const values = kernel.dataSync().slice();
        values[mask.dataSync().indexOf(1)] = Infinity;
        kernel.assign(tf.tensor(values, kernel.shape));
      },
    });
    const { x, y } = data();
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
    const fit = model.fit(x, kit.labels(y), { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks: [poison, ...kit.callbacks] });
    await expect(fit).rejects.toThrow(MoonTrainingError);
    await expect(fit).rejects.toThrow(/1 NaN or infinite values at the pruning step 1/);
    expect(maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()))).toEqual(masksBefore);
    x.dispose();
    kit.dispose();
  });

  it('hands over to RigL after endStep', async () => {
    const { updates, kit } = await fitAndRecord({ ...base(buildMlp(4)), sparsifier: 'rigl', mask: { interval: 1, endStep: 12 } });
    expect(updates.length).toBeGreaterThan(0);
    expect(Math.min(...updates)).toBeGreaterThan(10);
    expect(kit.density).toBeCloseTo(0.1, 3);
  });

  it('resumes from a checkpoint with the same schedule', async () => {
    const whole = await fitAndRecord(base(buildMlp(6)));
    const model = buildMlp(6);
    const first = await fitAndRecord(base(model), 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-prune-'));
    await first.kit.checkpoint(dir);
    first.kit.dispose(); // one live kit per model: the resumed kit takes over
    const resumed = createMoon({ ...base(model), resumeFrom: dir });
    const { x, y } = data();
    model.compile({ optimizer: resumed.optimizer(tf.train.sgd(0.05)), loss: resumed.loss });
    await model.fit(x, resumed.labels(y), { epochs: 3, initialEpoch: resumed.resumeEpoch, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...resumed.callbacks] });
    expect(maskedKernels(resumed).map((k) => Array.from(k.mask.dataSync()))).toEqual(maskedKernels(whole.kit).map((k) => Array.from(k.mask.dataSync())));
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects schedules that do not fit the run or the kit', () => {
    const model = buildMlp();
    expect(() => createMoon({ ...base(model), prune: { initialSparsity: 0.95 } })).toThrow(/prune.initialSparsity must be a number in \[0, 0.9\]/);
    expect(() => createMoon({ ...base(model), prune: { beginStep: 5, endStep: 5 } })).toThrow(/must come after prune.beginStep/);
    expect(() => createMoon({ ...base(model), prune: { endStep: 13 } })).toThrow(/prune.endStep \(13\) is after step 12/);
    expect(() => createMoon({ ...base(model), prune: { endStep: 10 }, mask: { startStep: 4 } })).toThrow(/mask.startStep \(4\) is before prune.endStep \(10\)/);
    expect(() => createMoon({ ...base(model), prune: { every: 3 } as never })).toThrow(/unknown key "every"/);
  });
});
