import * as tf from '@tensorflow/tfjs';
import { createMoon, dropCountAt, dropFractionAt, isMaskUpdateStep, MoonConfigError, MoonModelError, type MoonEventMap, type MoonOptions } from '../src';
import { mnistSubset } from './helpers/data';
import { leakProbe } from './helpers/leak-probe';
import { buildMlp, maskedKernels, expectExactMasks } from './helpers/models';

describe('MOON end to end on real MNIST digits', () => {
  it('trains a K+1 sparse MLP: every event fires, sparsity is exact after finalize, no tensor leaks', async () => {
    const model = buildMlp(7, 11);
    const { xs, ys } = mnistSubset(10);
    const val = mnistSubset(3);
    const noise = tf.randomUniform([30, 784], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const kit = createMoon({ model, numClasses: 10, epochs: 5, stepsPerEpoch: 5, sparsity: 0.9, seed: 5, mask: { interval: 2 } });
    expect(kit.unknownAware).toBe(true);
    expect(kit.outputKind).toBe('probabilities');
    const counts: Record<string, number> = {};
    for (const name of ['mask:init', 'mask:update', 'tuner:alpha', 'lr:update', 'voter:snapshot', 'voter:finalize', 'reliability:epoch'] as const) {
      counts[name] = 0;
      kit.events.on(name as keyof MoonEventMap, () => counts[name]++);
    }
    const monitor = kit.monitor({ id: { x: val.xs, y: val.ys }, ood: { noise } });
    const { callback: probe, counts: tensors } = leakProbe();
    // SGD: tfjs's momentum optimizer leaves 2 tensors behind after its own dispose(), which would hide the kit's count.
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss, metrics: ['accuracy'] });
    const labels = kit.labels(ys);
    const history = await model.fit(xs, labels, { epochs: 5, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor, probe] });
    await kit.finalize();

    expect(model.outputs[0].shape).toEqual([null, 11]);
    expect(counts).toEqual({
      'mask:init': 1,
      'mask:update': 9 * 3, // steps 2, 4, …, 18 (the default end: 75% of 25 steps), three masked layers
      'tuner:alpha': 4, // epochs 1–4 (warm-up: 1 epoch)
      'lr:update': 5,
      'voter:snapshot': 5, // the last epoch, 5 batches
      'voter:finalize': 1,
      'reliability:epoch': 5,
    });
    expectExactMasks(kit);
    const total = kit.masks.reduce((s, m) => s + m.total, 0);
    expect(kit.masks.reduce((s, m) => s + m.active, 0)).toBe(Math.round(0.1 * total));
    // Flat, except the voter's running average (one tensor per trainable weight) allocated at its first snapshot.
    expect(tensors.slice(0, 4)).toEqual([tensors[0], tensors[0], tensors[0], tensors[0]]);
    expect(tensors[4] - tensors[3]).toBe(model.trainableWeights.length);
    expect(history.history.ood_noise_auroc).toHaveLength(5);
    labels.dispose();
    model.optimizer.dispose(); // the wrapper disposes the inner optimizer and its slots
    kit.dispose();
    expect(tf.memory().numTensors).toBe(before); // the kit frees everything it allocated
    tf.dispose([xs, ys, val.xs, val.ys, noise]);
  });
});

describe('presets', () => {
  const base = () => ({ model: buildMlp(1, 11), numClasses: 10, epochs: 100, stepsPerEpoch: 391, seed: 1 });

  it('as-released differs from recommended exactly in the documented switches', () => {
    const recommended = createMoon(base()).settings;
    const released = createMoon({ ...base(), preset: 'as-released' }).settings;
    const differing = (Object.keys(recommended) as (keyof typeof recommended)[]).filter((k) => JSON.stringify(recommended[k]) !== JSON.stringify(released[k]));
    expect(differing.sort()).toEqual(['ece', 'mask', 'preset', 'randomMaskDpnum', 'roc', 'voter']);
    expect([recommended.roc, released.roc]).toEqual(['full', 'thinned']);
    const schedule = { endStep: 0, decayHorizon: 0, interval: 0, phase: '', dropRounding: '', initScale: '' };
    expect({ ...recommended.mask, ...schedule }).toEqual({ ...released.mask, ...schedule });
    expect([recommended.mask.interval, released.mask.interval]).toEqual([100, 80]);
    expect([recommended.mask.phase, released.mask.phase]).toEqual(['run', 'epoch']);
    expect([recommended.mask.dropRounding, released.mask.dropRounding]).toEqual(['floor', 'ceil']);
    expect([recommended.mask.initScale, released.mask.initScale]).toEqual(['sparse-fan-in', 'none']);
    expect([recommended.mask.endStep, released.mask.endStep]).toEqual([29325, 70 * 391]); // 75% of the steps vs 70 epochs
    expect([recommended.mask.decayHorizon, released.mask.decayHorizon]).toEqual([undefined, 70]);
    expect([recommended.voter!.rule, released.voter!.rule]).toEqual(['every-tenth', 'first-tenth']);
    expect({ ...recommended.voter, rule: '' }).toEqual({ ...released.voter, rule: '' });
    expect([recommended.randomMaskDpnum, released.randomMaskDpnum]).toEqual([0, 100]);
    expect([recommended.ece, released.ece]).toEqual([{ variant: 'guo', bins: 15 }, { variant: 'reference', bins: 10 }]);
    // The shared defaults scale the reference's 100-epoch run: warm-up 5 epochs, averaging 20, lr 1.2 → 0.08.
    expect(recommended.tuner).toEqual({ warmupEpochs: 5, epochs: 100, stepsPerEpoch: 391, initFactor: 64, alphaFinal: 1, ewmaMomentum: 0.05 });
    expect(recommended.voter!.firstEpoch).toBe(80);
    expect(recommended.lr).toEqual({ start: 1.2, end: 0.08, epochs: 100, stepsPerEpoch: 391, constantEpochs: 20 });
  });

  it("as-released replays the reference's CIFAR mask schedule: 284 updates at steps 80…320 of epochs 0–70, ceil(r·n) drops", () => {
    // The reference's sparse run: epochs 0…100 (101) of 391 steps; updates where (epoch − 1) < 70 and train_step % 80 == 0.
    const kit = createMoon({ ...base(), epochs: 101, preset: 'as-released' });
    const updates: number[] = [];
    for (let step = 1; step <= 101 * 391; step++) if (isMaskUpdateStep(step, kit.schedule)) updates.push(step);
    expect(updates).toHaveLength(284);
    expect(updates.slice(0, 5)).toEqual([80, 160, 240, 320, 391 + 80]);
    expect(updates.at(-1)).toBe(70 * 391 + 320); // the last one in epoch 70
    // The frozen rate r(69) = 0.3·(1 + cos(69π/70))/2 = 1.51e-4: ceil drops one weight where floor drops none
    // (any layer with fewer than 6,621 active weights), and ceil(r·n) in the larger layers.
    const r = 0.3 * (1 + Math.cos((69 * Math.PI) / 70)) / 2;
    expect(dropFractionAt(updates[3], kit.schedule)).toBeCloseTo(r, 12);
    expect(r).toBeCloseTo(1.51e-4, 6);
    const activePerLayer = [173, 3686, 6620, 6621, 58982, 141558]; // sizes around the threshold and 90%-sparse VGG layers
    expect(activePerLayer.map((n) => dropCountAt(updates[3], n, kit.schedule))).toEqual(activePerLayer.map((n) => Math.ceil(r * n)));
    expect(activePerLayer.map((n) => dropCountAt(updates[3], n, kit.schedule))).toEqual([1, 1, 1, 2, 9, 22]);
    const floorSchedule = { ...kit.schedule, dropRounding: 'floor' as const };
    expect(activePerLayer.map((n) => dropCountAt(updates[3], n, floorSchedule))).toEqual([0, 0, 0, 1, 8, 21]);
    kit.dispose();
  });

  it("as-released drops a random ~1% of the active weights at every step (the reference's hidden random mask)", async () => {
    const zeroActiveShare = async (preset: 'recommended' | 'as-released') => {
      const model = buildMlp(4, 11);
      const { xs, ys } = mnistSubset(4);
      // SGD at lr 0: only the drop moves weights, so the weights dropped at the last step are still exactly 0.
      const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 2, sparsity: 0.5, sparsifier: 'static', seed: 2, preset, voter: false, lr: false });
      model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
      await model.fit(xs, kit.labels(ys), { epochs: 1, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
      const [{ kernel, mask }] = maskedKernels(kit);
      const share = tf.tidy(() => tf.sum(tf.mul(mask, tf.cast(tf.equal(kernel, 0), 'float32'))).dataSync()[0] / tf.sum(mask).dataSync()[0]);
      tf.dispose([xs, ys]);
      return share;
    };
    expect(await zeroActiveShare('recommended')).toBe(0);
    const share = await zeroActiveShare('as-released');
    expect(share).toBeGreaterThan(0.007); // 1/dpnum = 1%, drawn at random over ~6,000 active weights
    expect(share).toBeLessThan(0.013);
  });
});

describe('bad MOON options get typed errors before anything is touched', () => {
  const model = () => buildMlp(1, 11);
  const make = (o: Partial<MoonOptions>) => () => createMoon({ model: model(), numClasses: 10, epochs: 10, stepsPerEpoch: 5, ...o } as MoonOptions);

  it('a model without the unknown output', () => {
    expect(() => createMoon({ model: buildMlp(1, 10), numClasses: 10, epochs: 10, stepsPerEpoch: 5 })).toThrow(MoonModelError);
    expect(() => createMoon({ model: buildMlp(1, 10), numClasses: 10, epochs: 10, stepsPerEpoch: 5 })).toThrow(
      /model has 10 outputs but numClasses is 10: an unknown-aware kit needs numClasses \+ 1 = 11 outputs; add one unit to the last layer \(addUnknownHead\(model\) does it\) or pass unknownAware: false/,
    );
  });

  it.each([
    [{ voter: { epochs: 11 } }, /voter.epochs \(11\) is longer than the training \(10 epochs\)/],
    [{ voter: { epochs: 0 } }, /voter.epochs must be a positive integer/],
    [{ voter: { rule: 'last' as never } }, /voter.rule must be 'every-tenth' or 'first-tenth'/],
    [{ mask: { endStep: 45 } }, /mask updates run until step 45 but averaging starts at step 40/],
    [{ tuner: { warmupEpochs: 10 } }, /tuner.warmupEpochs \(10\) must be less than epochs \(10\)/],
    [{ tuner: { initFactor: 0 } }, /tuner.initFactor must be a positive number/],
    [{ tuner: { ewmaMomentum: 2 } }, /tuner.ewmaMomentum must be a number in \[0, 1\]/],
    [{ lr: { start: -1 } }, /lr.startMultiplier must be a number/],
    [{ lr: 'cosine' as never }, /lr must be true, false or an object \(\{ startMultiplier, endMultiplier \}\)/],
    [{ preset: 'paper' as never }, /preset must be 'recommended' or 'as-released'/],
    [{ randomMaskDpnum: 1 }, /randomMaskDpnum must be 0 \(off\) or an integer ≥ 2/],
    [{ epochs: 1 }, /an unknown-aware kit needs epochs ≥ 2/],
    [{ epochs: undefined }, /epochs must be a positive integer, got undefined/],
    [{ stepsPerEpoch: 0 }, /stepsPerEpoch must be a positive integer/],
    [{ from: 'softmax' as never }, /from must be 'probabilities' or 'logits'/],
  ] as const)('%p', (options, message) => {
    expect(make(options as Partial<MoonOptions>)).toThrow(MoonConfigError);
    expect(make(options as Partial<MoonOptions>)).toThrow(message);
  });

  it('class ids outside [0, K) in a host array', () => {
    const kit = make({})();
    expect(() => kit.labels([1, 10])).toThrow(MoonConfigError);
    expect(() => kit.labels([1, 10])).toThrow(/label 1 is 10: class ids must be integers in \[0, 10\)/);
    expect(() => kit.labels([0.5])).toThrow(/label 0 is 0.5/);
  });
});
