import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container } from 'tsyringe';
import * as api from '../src';
import {
  auroc, aupr, BUILTIN_STRATEGIES, createMoon, dropLowestScores, GradientGrow, knownMassScore, MoonMetricError, MoonRegistryError, oodMetrics, PRESET_DEFAULTS, prCurve,
  knownMassScoreAsync, probabilitiesFrom, registerDropCriterion, registerGrowCriterion, registerScore, rocCurve, scoreByName, scoreByNameAsync, unknownScore,
  type GrowCriterion, type MaskUpdateContext, type ReliabilityEpochEvent,
} from '../src';
import { buildMlp, expectExactMasks, maskedKernels } from './helpers/models';

const base = { numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false, seed: 5, mask: { interval: 1, endStep: 2 } } as const;

async function fitTwoSteps(kit: ReturnType<typeof createMoon>, model: tf.LayersModel): Promise<void> {
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
  const xs = tf.randomNormal([8, 784], 0, 1, 'float32', 3);
  const ys = kit.labels([0, 1, 2, 3, 4, 5, 6, 7]);
  await model.fit(xs, ys, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
  tf.dispose([xs, ys]);
}

const masksOf = (kit: ReturnType<typeof createMoon>) => maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));

/** Grows where |w·g| would be largest if w were 1: the gradient's magnitude plus a counter of its calls. */
class CountingGradientGrow extends GradientGrow implements GrowCriterion {
  static calls = 0;
  override score(ctx: MaskUpdateContext): tf.Tensor {
    CountingGradientGrow.calls++;
    return super.score(ctx);
  }
}

describe('prune-and-grow criteria', () => {
  it('{ drop: magnitude, grow: gradient } is RigL, mask for mask', async () => {
    const [m1, m2] = [buildMlp(), buildMlp()];
    const rigl = createMoon({ ...base, model: m1, sparsifier: 'rigl' });
    const pair = createMoon({ ...base, model: m2, sparsifier: { drop: 'magnitude', grow: 'gradient' } });
    await fitTwoSteps(rigl, m1);
    await fitTwoSteps(pair, m2);
    expect(masksOf(pair)).toEqual(masksOf(rigl));
    expect(pair.settings.sparsifier).toEqual({ drop: 'magnitude', grow: 'gradient' });
  });

  it('uses a grow criterion registered in a user container, keeping the exact counts', async () => {
    const mine = container.createChildContainer();
    registerGrowCriterion('counting', CountingGradientGrow, mine);
    CountingGradientGrow.calls = 0;
    const model = buildMlp();
    const kit = createMoon({ ...base, model, container: mine, sparsifier: { drop: 'magnitude', grow: 'counting' } });
    const planned = kit.maskSummary.map((m) => m.active);
    await fitTwoSteps(kit, model);
    expect(CountingGradientGrow.calls).toBe(2 * 3); // two updates, three masked layers
    expectExactMasks(kit, planned);
  });

  it('names the valid criteria when one is unknown, and rejects malformed choices', () => {
    registerDropCriterion('my-drop', class { score = (ctx: MaskUpdateContext) => tf.abs(ctx.weights); });
    let error: unknown;
    try {
      createMoon({ ...base, model: buildMlp(), sparsifier: { drop: 'magnitude', grow: 'gradiant' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MoonRegistryError);
    expect((error as MoonRegistryError).message).toMatch(/unknown grow criterion "gradiant": valid names are 'gradient', 'random'; register your own with registerGrowCriterion/);
    expect(() => createMoon({ ...base, model: buildMlp(), sparsifier: { drop: 'nope', grow: 'random' } })).toThrow(/valid names are 'magnitude', 'my-drop'/);
    expect(() => createMoon({ ...base, model: buildMlp(), sparsifier: { drop: 'magnitude', grow: 'random', extra: 1 } as never })).toThrow(/unknown key "extra"/);
    expect(() => createMoon({ ...base, model: buildMlp(), sparsifier: { drop: 'magnitude' } as never })).toThrow(/needs two registered names/);
  });

  it('registers the built-ins in each kit, never in the global container', () => {
    const kit = createMoon({ ...base, model: buildMlp() });
    expect(container.isRegistered('tfjs-moon:sparsifier:rigl', true)).toBe(false);
    expect(kit.container.isRegistered('tfjs-moon:grow:random')).toBe(true);
  });
});

describe('criteria helpers', () => {
  it('dropLowestScores switches off the k active positions with the lowest scores, ignoring inactive ones', () => {
    const scores = tf.tensor1d([5, 0.1, 3, 0.2, 4]);
    const mask = tf.tensor1d([1, 0, 1, 1, 1]);
    expect(Array.from(dropLowestScores(scores, mask, 2).dataSync())).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(dropLowestScores(scores, mask, 0).dataSync())).toEqual([1, 0, 1, 1, 1]);
    tf.dispose([scores, mask]);
  });

  it('lists the built-in strategies by kind', () => {
    expect(Object.fromEntries(Object.entries(BUILTIN_STRATEGIES).map(([k, t]) => [k, Object.keys(t)]))).toEqual({
      sparsifier: ['rigl', 'set', 'static'], distribution: ['uniform', 'er', 'erk'], drop: ['magnitude'], grow: ['gradient', 'random'],
    });
  });
});

describe('registered scores', () => {
  /** The negative entropy of the known classes' distribution: higher = more peaked = more in-distribution. */
  const negEntropy = async (output: tf.Tensor, o: { numClasses: number }): Promise<Float32Array> => {
    const t = tf.tidy(() => {
      const p = tf.slice(output, [0, 0], [-1, o.numClasses]);
      return tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-12))), 1);
    });
    const data = (await t.data()) as Float32Array;
    t.dispose();
    return data;
  };

  it('a registered score drives the monitor by name', async () => {
    registerScore('neg-entropy', negEntropy);
    const model = buildMlp(2, 11);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    const x = tf.randomNormal([12, 784], 0, 1, 'float32', 4);
    const noise = tf.randomUniform([10, 784], 0, 1, 'float32', 5);
    const y = Array.from({ length: 12 }, (_, i) => i % 10);
    const events: ReliabilityEpochEvent[] = [];
    kit.events.on('reliability:epoch', (e) => events.push(e));
    const monitor = kit.monitor({ id: { x, y }, ood: { noise }, score: 'neg-entropy' });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    await model.fit(x, kit.labels(y), { epochs: 1, batchSize: 12, verbose: 0, callbacks: [...kit.callbacks, monitor] });
    const [idOut, oodOut] = [model.predict(x) as tf.Tensor, model.predict(noise) as tf.Tensor];
    const expected = oodMetrics(await negEntropy(idOut, { numClasses: 10 }), await negEntropy(oodOut, { numClasses: 10 }));
    expect(events[0].ood.noise.auroc).toBeCloseTo(expected.auroc, 6);
    expect(() => scoreByName('neg-entropy')).toThrow(/without a synchronous form: use scoreByNameAsync/);
    tf.dispose([x, noise, idOut, oodOut]);
  });

  it('a score registered in a user container is seen by those kits only', async () => {
    const mine = container.createChildContainer();
    const calls: number[] = [];
    registerScore('counted', async (output, o) => {
      calls.push(output.shape[0]);
      return knownMassScore(output, o);
    }, mine);
    const x = tf.randomNormal([6, 784], 0, 1, 'float32', 6);
    const kit = createMoon({ model: buildMlp(3, 11), numClasses: 10, epochs: 2, stepsPerEpoch: 1, container: mine });
    const monitor = kit.monitor({ id: { x, y: [0, 1, 2, 3, 4, 5] }, ood: { same: x }, score: 'counted' });
    kit.model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    await kit.model.fit(x, kit.labels([0, 1, 2, 3, 4, 5]), { epochs: 1, batchSize: 6, verbose: 0, callbacks: [...kit.callbacks, monitor] });
    expect(calls).toEqual([6, 6]); // the ID set and the OOD set
    const other = createMoon({ model: buildMlp(3, 11), numClasses: 10, epochs: 2, stepsPerEpoch: 1 });
    expect(() => other.monitor({ id: { x, y: [0, 1, 2, 3, 4, 5] }, ood: { same: x }, score: 'counted' })).toThrow(/unknown score "counted"/);
    x.dispose();
  });

  it('rejects built-in names and malformed registrations; lists registered names', () => {
    expect(() => registerScore('msp', negEntropy)).toThrow(/"msp" is a built-in score/);
    expect(() => registerScore('x', {} as never)).toThrow(MoonMetricError);
    expect(() => scoreByNameAsync('nope')).toThrow(/valid names are 'msp', 'energy', 'max-logit', 'known-mass', 'unknown', 'neg-entropy'/);
  });
});

describe('curves', () => {
  // ID [0.9, 0.8, 0.4], OOD [0.7, 0.4, 0.1]: thresholds 0.9, 0.8, 0.7, 0.4 (a tie across the sides), 0.1.
  const id = [0.9, 0.8, 0.4];
  const ood = [0.7, 0.4, 0.1];
  const trapezoid = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    Math.abs(Array.from(x).reduce((s, _, i) => (i === 0 ? 0 : s + ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2), 0));

  it('rocCurve has one point per distinct score, ties on one point, and integrates to auroc', () => {
    const roc = rocCurve(id, ood);
    expect(Array.from(roc.tpr)).toEqual([0, 1 / 3, 2 / 3, 2 / 3, 1, 1]);
    expect(Array.from(roc.fpr)).toEqual([0, 0, 0, 1 / 3, 2 / 3, 1]);
    expect(Array.from(roc.thresholds)).toEqual([Infinity, 0.9, 0.8, 0.7, 0.4, 0.1]);
    expect(trapezoid(roc.fpr, roc.tpr)).toBeCloseTo(auroc(id, ood), 12);
    expect(auroc(id, ood)).toBeCloseTo(7.5 / 9, 12); // Mann–Whitney: 3 + 3 + (1 + ½ for the tie) of 9 pairs
  });

  it('prCurve runs from full recall to (0, 1) and integrates to aupr on both sides', () => {
    const pr = prCurve(id, ood);
    expect(Array.from(pr.recall)).toEqual([1, 2 / 3, 2 / 3, 1 / 3, 0]);
    expect(Array.from(pr.precision).map((p) => +p.toFixed(6))).toEqual([0.6, 0.666667, 1, 1, 1]);
    expect(trapezoid(pr.recall, pr.precision)).toBeCloseTo(aupr(id, ood), 12);
    const out = prCurve(id, ood, { positive: 'ood' });
    expect(trapezoid(out.recall, out.precision)).toBeCloseTo(aupr(id, ood, { positive: 'ood' }), 12);
  });
});

describe('public surface', () => {
  it('one table of defaults per preset, frozen, and the kit follows it', () => {
    expect(PRESET_DEFAULTS['as-released'].voter.rule).toBe('first-tenth');
    expect(PRESET_DEFAULTS.recommended.voter.rule).toBe('every-tenth');
    expect(Object.isFrozen(PRESET_DEFAULTS['as-released'].mask)).toBe(true);
    const kit = createMoon({ model: buildMlp(1, 11), numClasses: 10, epochs: 10, stepsPerEpoch: 5, preset: 'as-released' });
    expect(kit.settings.randomMaskDpnum).toBe(PRESET_DEFAULTS['as-released'].randomMaskDpnum);
    expect(kit.settings.mask.decayHorizon).toBe(PRESET_DEFAULTS['as-released'].mask.decayHorizon);
    expect(kit.settings.mask.endStep).toBe(35); // round(0.7 · 10) whole epochs of 5 steps, before averaging starts at 40
    kit.dispose();
  });

  it('renamed members keep their 0.1 names as aliases', async () => {
    const kit = createMoon({ ...base, model: buildMlp() });
    expect(kit.masks).toEqual(kit.maskSummary);
    const logits = tf.tensor2d([[2, 0, -1], [0, 1, 3]]);
    const probs = probabilitiesFrom(logits, 'logits');
    expect(Array.from(probs.dataSync())).toEqual(Array.from(tf.softmax(logits).dataSync()));
    expect(probabilitiesFrom(probs, 'probabilities')).toBe(probs);
    expect(Array.from(knownMassScore(probs, { numClasses: 2 }))).toEqual(Array.from(unknownScore(probs, { numClasses: 2 })));
    expect(knownMassScore(probs, { numClasses: 2 })[0]).toBeCloseTo(1 - probs.arraySync()[0][2], 6);
    expect(Array.from(await knownMassScoreAsync(probs, { numClasses: 2 }))).toEqual(Array.from(knownMassScore(probs, { numClasses: 2 })));
    expect(scoreByName('known-mass')).toBe(knownMassScore);
    expect(scoreByName('unknown')).toBe(knownMassScore); // the 0.1 name of the same score
    tf.dispose([logits, probs]);
  });

  it('exports what users construct, and only the types of what the kit constructs', () => {
    const values = Object.keys(api);
    for (const internal of ['MaskedOptimizer', 'MaskUpdaterCallback', 'AutoTunerCallback', 'SnapshotVoterCallback', 'NanGuardCallback', 'CheckpointCallback', 'LearningRateScheduleCallback']) {
      expect(values).not.toContain(internal);
    }
    expect(values).toEqual(expect.arrayContaining(['createMoon', 'MoonKit', 'ReliabilityMonitor', 'registerScore', 'rocCurve', 'prCurve', 'registerGrowCriterion']));
  });
});
