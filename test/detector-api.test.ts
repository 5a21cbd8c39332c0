import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container } from 'tsyringe';
import { auroc, createMoon, DETECTORS, ReliabilityMonitor, fitDetector, gridSettings, loadDetector, MoonConfigError, registerDetector, tuneDetector, type MoonKit } from '../src';
import { BUILTIN_DETECTORS } from '../src/metrics/detectors/builtin-detectors';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';

// Issue #23: a real fit → fitDetector → calibrate → predict, on the backend of the project.

describe(`the detector API on a trained MOON model (${process.env.TFJS_TEST_BACKEND})`, () => {
  let model: tf.Sequential;
  let kit: MoonKit;
  let xTrain: tf.Tensor2D;
  let idsTrain: number[];
  let xHeld: tf.Tensor2D;
  let xOod: tf.Tensor2D;

  beforeAll(async () => {
    const { xs, labels } = mnistSubset(40);
    const rows = (keep: (label: number, i: number) => boolean) => labels.flatMap((l, i) => (keep(l, i) ? [i] : []));
    const train = rows((l, i) => l < 6 && i < 300);
    xTrain = tf.gather(xs, train) as tf.Tensor2D;
    idsTrain = train.map((i) => labels[i]);
    xHeld = tf.gather(xs, rows((l, i) => l < 6 && i >= 300)) as tf.Tensor2D;
    xOod = tf.gather(xs, rows((l) => l >= 6)) as tf.Tensor2D;
    xs.dispose();
    model = buildMlp(2, 7);
    kit = createMoon({ model, numClasses: 6, epochs: 12, stepsPerEpoch: 5, sparsity: 0.9, sparsifier: 'rigl', seed: 1, mask: { interval: 5 }, tuner: { warmupEpochs: 1 } });
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: kit.loss });
    const y = kit.labels(idsTrain);
    await model.fit(xTrain, y, { epochs: 12, batchSize: 36, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    y.dispose();
    await kit.finalize();
  });

  afterAll(() => {
    kit.dispose();
    tf.dispose([xTrain, xHeld, xOod]);
    model.dispose();
  });

  /** Features and logits computed independently of the plugin: a sub-model up to the head's input. */
  function reference(name: string, x: tf.Tensor2D, state: Record<string, number | tf.Tensor>, options: object): Float32Array {
    return tf.tidy(() => {
      const features = tf.model({ inputs: model.inputs, outputs: model.layers[model.layers.length - 2].output as tf.SymbolicTensor }).predict(x) as tf.Tensor2D;
      const [w, b] = model.layers[model.layers.length - 1].getWeights();
      const allLogits = tf.add(tf.matMul(features, w), b) as tf.Tensor2D;
      const head = { kernel: w.slice([0, 0], [-1, 6]) as tf.Tensor2D, bias: b.slice(0, 6) as tf.Tensor1D };
      return BUILTIN_DETECTORS[name].score({ features, allLogits, logits: allLogits.slice([0, 0], [-1, 6]) as tf.Tensor2D }, state, head, options as never).dataSync() as Float32Array;
    });
  }

  it.each(['msp', 'temperature', 'gen', 'energy', 'knn', 'mahalanobis', 'vim', 'fdbd', 'react', 'knownMass'])('%s: scores, calibration, decision and JSON round trip', async (name) => {
    const before = tf.memory().numTensors;
    const detector = await fitDetector(name, { model, x: xTrain, labels: idsTrain, kit, batchSize: 64, ...(name === 'knn' ? { k: 10 } : {}) });
    const held = await detector.score(xHeld);
    const state = (detector as unknown as { state: Record<string, number | tf.Tensor> }).state;
    const expected = reference(name, xHeld, state, detector.options);
    held.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 4));

    const threshold = await detector.calibrate(xHeld, { tpr: 0.95 });
    expect(detector.threshold).toBe(threshold);
    expect(held.filter((s) => s >= threshold).length).toBe(Math.ceil(0.95 * held.length)); // no ties among float scores
    const { labels, scores } = await detector.predict(xOod);
    const predicted = tf.tidy(() => tf.argMax((model.predict(xOod) as tf.Tensor2D).slice([0, 0], [-1, 6]), 1).dataSync());
    labels.forEach((l, i) => expect(l).toBe(scores[i] >= threshold ? predicted[i] : -1));

    const again = await loadDetector(JSON.parse(JSON.stringify(detector.toJSON())), model);
    expect(again.threshold).toBe(threshold);
    expect(Array.from(await again.score(xHeld))).toEqual(Array.from(held));
    detector.dispose();
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a feature-space detector ranks unseen digits below held-out known ones, and says "unknown" to them more often', async () => {
    const detector = await fitDetector('knn', { model, x: xTrain, kit, k: 10 });
    await detector.calibrate(xHeld);
    const unknownShare = async (x: tf.Tensor) => (await detector.predict(x)).labels.filter((l) => l === -1).length / x.shape[0];
    // A 784-32-16 MLP at 90% on 180 digits: well above chance, far from a clean split (RESULTS has the real models).
    expect(auroc(await detector.score(xHeld), await detector.score(xOod))).toBeGreaterThan(0.65);
    expect(await unknownShare(xOod)).toBeGreaterThan(await unknownShare(xHeld));
    detector.dispose();
  });

  it('tuneDetector fits every setting of the grid, keeps the best AUROC on (idVal, oodVal), and frees the rest', async () => {
    const before = tf.memory().numTensors;
    const idVal = xHeld.slice(0, 30);
    const oodVal = xOod.slice(0, 30);
    // k = 500 is more than the 180 training digits: that setting is skipped, not fatal.
    const tuning = await tuneDetector('knn', { model, x: xTrain, kit, idVal, oodVal, grid: { k: [1, 5, 20, 500] } });
    expect(tuning.trials.map((t) => t.options.k)).toEqual([1, 5, 20]);
    for (const trial of tuning.trials) {
      const single = await fitDetector('knn', { model, x: xTrain, kit, k: trial.options.k as number });
      expect(trial.auroc).toBeCloseTo(auroc(await single.score(idVal), await single.score(oodVal)), 9);
      single.dispose();
    }
    const best = Math.max(...tuning.trials.map((t) => t.auroc));
    expect(tuning.auroc).toBe(best);
    expect(tuning.options.k).toBe(tuning.trials.find((t) => t.auroc === best)!.options.k);
    expect(tuning.detector.options.k).toBe(tuning.options.k);
    expect(auroc(await tuning.detector.score(idVal), await tuning.detector.score(oodVal))).toBeCloseTo(best, 9);
    tuning.detector.dispose();
    tf.dispose([idVal, oodVal]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tuneDetector uses OpenOOD\'s grid by default and says what is wrong with a bad one', async () => {
    expect(gridSettings({ gamma: [0.1, 1], m: [10, 50] })).toEqual([{ gamma: 0.1, m: 10 }, { gamma: 0.1, m: 50 }, { gamma: 1, m: 10 }, { gamma: 1, m: 50 }]);
    const tuning = await tuneDetector('react', { model, x: xTrain, kit, idVal: xHeld, oodVal: xOod });
    expect(tuning.trials.map((t) => t.options.percentile)).toEqual([85, 90, 95, 99]);
    tuning.detector.dispose();
    await expect(tuneDetector('knn', { model, x: xTrain, kit, idVal: xHeld, oodVal: xOod, grid: { K: [5] } })).rejects.toThrow(/the grid names K, which the detector does not take; its options are k, bankSize, seed/);
    await expect(tuneDetector('knn', { model, x: xTrain, kit, idVal: xHeld, oodVal: xOod, grid: { k: [] } })).rejects.toThrow(/grid.k must be a non-empty array/);
    await expect(tuneDetector('knn', { model, x: xTrain, kit, idVal: xHeld, oodVal: xOod, grid: { k: [999] } })).rejects.toThrow(/no setting of the grid fits this data \(knn: k = 999 is larger than the \d+ samples/);
    await expect(tuneDetector('knn', { model, x: xTrain, kit, idVal: xHeld } as never)).rejects.toThrow(/needs \{ oodVal \}/);
    // vim's default grid (256, 1000) is wider than these 16 features: the error says so.
    await expect(tuneDetector('vim', { model, x: xTrain, kit, idVal: xHeld, oodVal: xOod })).rejects.toThrow(/no setting of the grid fits this data \(vim: dimensions must be an integer in \[1, 15\]/);
    // OOD inputs of the wrong width: scoring fails, and the detector fitted for that setting does not stay allocated.
    const before = tf.memory().numTensors;
    const wrongWidth = tf.zeros([4, 7]);
    await expect(tuneDetector('knn', { model, x: xTrain, kit, idVal: xHeld, oodVal: wrongWidth, grid: { k: [1, 5] } })).rejects.toThrow();
    wrongWidth.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ReliabilityMonitor takes a fitted detector, or a function that fits one at each evaluation', async () => {
    const before = tf.memory().numTensors;
    const heldIds = tf.tidy(() => tf.argMax((model.predict(xHeld) as tf.Tensor2D).slice([0, 0], [-1, 6]), 1)); // labels only feed accuracy
    const detector = await fitDetector('knn', { model, x: xTrain, kit, k: 10 });
    const expected = auroc(await detector.score(xHeld), await detector.score(xOod));
    const fitted = new ReliabilityMonitor({ id: { x: xHeld, y: heldIds }, ood: { digits: xOod }, numClasses: 6, detector, accuracyOver: 'K' });
    fitted.setModel(model);
    const event = await fitted.evaluate();
    expect(event.ood.digits.auroc).toBeCloseTo(expected, 9);
    expect(event.accuracy).toBe(1); // still from the model's outputs: the labels are its own argmax over the K known classes
    let calls = 0;
    const refitting = new ReliabilityMonitor({
      id: { x: xHeld, y: heldIds }, ood: { digits: xOod }, numClasses: 6,
      detector: async (m) => { calls++; return fitDetector('knn', { model: m, x: xTrain, kit, k: 10 }); },
    });
    refitting.setModel(model);
    expect((await refitting.evaluate()).ood.digits.auroc).toBeCloseTo(expected, 9);
    await refitting.evaluate();
    expect(calls).toBe(2);
    detector.dispose();
    heldIds.dispose();
    expect(tf.memory().numTensors).toBe(before); // the function's detectors are disposed after each evaluation
    expect(() => new ReliabilityMonitor({ id: { x: xHeld, y: [0] }, ood: { digits: xOod }, numClasses: 6, detector: 'knn' as never })).toThrow(/detector must be a fitted Detector or a function/);
    expect(() => new ReliabilityMonitor({ id: { x: xHeld, y: heldIds }, ood: { digits: xOod }, numClasses: 6, score: 'energy', detector })).toThrow(/give score or detector, not both/);
  });

  it('misuse gets typed errors that say what to do', async () => {
    await expect(fitDetector('KNN', { model, x: xTrain, kit })).rejects.toThrow(/unknown detector "KNN": the built-in ones are msp, temperature/);
    await expect(fitDetector('knn', { model, x: xTrain, kit, K: 5 })).rejects.toThrow(/detector "knn" has no option "K"; its options are k, bankSize, seed/);
    await expect(fitDetector('mahalanobis', { model, x: xTrain, kit })).rejects.toThrow(/needs the class ids of x: pass labels/);
    await expect(fitDetector('knn', { model, x: xTrain, numClasses: 5 })).rejects.toThrow(/has 7 units, and numClasses is 5/);
    await expect(fitDetector('vim', { model, x: xTrain, kit, dimensions: 100 })).rejects.toThrow(/dimensions must be an integer in \[1, 15\]/);
    const detector = await fitDetector('energy', { model, x: xTrain, kit });
    await expect(detector.predict(xHeld)).rejects.toThrow(MoonConfigError);
    await expect(detector.predict(xHeld)).rejects.toThrow(/call detector.calibrate/);
    await expect(detector.calibrate(xHeld, { tpr: 1.5 })).rejects.toThrow(/tpr must be in \(0, 1\]/);
    detector.dispose();
    const plain = buildMlp(3, 6);
    await expect(fitDetector('knownMass', { model: plain, x: xTrain, numClasses: 6 })).rejects.toThrow(/reads MOON's unknown output: the model needs K \+ 1 = 7 outputs/);
    plain.dispose();
  });

  it('registerDetector adds one in a container, beside the built-ins', async () => {
    const mine = container.createChildContainer();
    registerDetector('negEntropy', {
      name: 'negEntropy', needs: [], defaults: {},
      fit: async () => ({}),
      score: (batch) => { const p = tf.softmax(batch.logits); return tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-12))), 1) as tf.Tensor1D; },
    }, mine);
    const detector = await fitDetector('negEntropy', { model, x: xTrain, kit, container: mine });
    const scores = await detector.score(xHeld);
    expect(scores.every((s) => s <= 0 && s >= -Math.log(6) - 1e-5)).toBe(true);
    detector.dispose();
    await expect(fitDetector('negEntropy', { model, x: xTrain, kit })).rejects.toThrow(/unknown detector/);
    expect(() => registerDetector('msp', BUILTIN_DETECTORS.msp as never, mine)).toThrow(/built-in detector/);
    expect(DETECTORS).toHaveLength(16);
  });
});
