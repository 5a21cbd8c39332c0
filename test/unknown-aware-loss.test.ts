import * as tf from '@tensorflow/tfjs';
import { FitPhase } from '../src/plugins/fit/fit-phase';
import { UnknownAwareState, unknownAwareLoss } from '../src/plugins/moon/unknown-aware-loss';

const K = 3;
// Four samples over K+1 = 4 outputs; labels 0, 1, 2, 0. Sample 0 is right (argmax 0), sample 1 wrong (argmax 0),
// sample 2 wrong with argmax "unknown" (3), sample 3 right.
const logits = [
  [2, 0.5, -1, 0.3],
  [3, 0, 0, 1.6],
  [0, 0.2, 0.4, 1.0],
  [1.5, -0.5, 0.2, 0.9],
];
const labels = [0, 1, 2, 0];

/** The formula in plain float64 JS: h·w averaged, w = 1 if right, else 1 + α/(1 + α·min(u, 1 − 1e-7)). */
function handLoss(alpha: number): number {
  let total = 0;
  logits.forEach((z, i) => {
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    const h = -Math.log(p[labels[i]]);
    const u = Math.min(p[K], 1 - 1e-7);
    const right = z.indexOf(Math.max(...z)) === labels[i];
    total += h * (right ? 1 : 1 + alpha / (1 + alpha * u));
  });
  return total / logits.length;
}

const oneHot = (width: number) => tf.oneHot(tf.tensor1d(labels, 'int32'), width).toFloat();

describe('unknown-aware loss', () => {
  it.each([0, 0.5, 8])('α = %p: equals the hand computation, from logits and from probabilities', (alpha) => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    state.alpha.assign(tf.scalar(alpha));
    const fromLogits = unknownAwareLoss(K, 'logits', state)(oneHot(K + 1), tf.tensor2d(logits));
    expect(fromLogits.shape).toEqual([logits.length]); // per-sample losses: fit weights and averages them
    expect(tf.mean(fromLogits).dataSync()[0]).toBeCloseTo(handLoss(alpha), 5);
    const probabilities = tf.softmax(tf.tensor2d(logits));
    const fromProbs = unknownAwareLoss(K, 'probabilities', state)(oneHot(K), probabilities); // K-wide labels are padded
    expect(tf.mean(fromProbs).dataSync()[0]).toBeCloseTo(handLoss(alpha), 5);
    state.dispose();
  });

  it('α = 0 (warm-up) is plain cross-entropy over K+1 outputs', () => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    const loss = tf.mean(unknownAwareLoss(K, 'logits', state)(oneHot(K + 1), tf.tensor2d(logits))).dataSync()[0];
    const ce = tf.losses.softmaxCrossEntropy(oneHot(K + 1), tf.tensor2d(logits)).dataSync()[0];
    expect(loss).toBeCloseTo(ce, 5);
    state.dispose();
  });

  it('raises the unknown output of a misclassified sample: ∂L/∂z_unknown < 0, matching the analytic derivative', () => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    state.alpha.assign(tf.scalar(8));
    const loss = unknownAwareLoss(K, 'logits', state);
    const z = tf.tensor2d([logits[1]]); // wrong: label 1, argmax 0
    const grad = tf.grad((x: tf.Tensor) => loss(tf.oneHot(tf.tensor1d([1], 'int32'), K + 1).toFloat(), x))(z).dataSync();
    const e = logits[1].map(Math.exp);
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const [h, u, a] = [-Math.log(p[1]), p[K], 8];
    const w = 1 + a / (1 + a * u);
    // d(h·w)/dz_K = w·∂h/∂z_K + h·∂w/∂u·∂u/∂z_K = w·p_K − h·a²/(1 + a·u)²·u(1 − u)
    const analytic = w * p[K] - (h * a * a * u * (1 - u)) / (1 + a * u) ** 2;
    expect(analytic).toBeLessThan(0);
    expect(grad[K]).toBeCloseTo(analytic, 5);
    expect(grad[K]).toBeLessThan(0); // gradient descent raises z_unknown, hence u
    state.dispose();
  });

  it('updates the EWMA of mean((1 − u)·CE) on training batches only', () => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    const loss = unknownAwareLoss(K, 'logits', state);
    const batch = (rows: number[][], ys: number[]) => {
      const e = rows.map((z) => z.map(Math.exp));
      return rows.reduce((s, _z, i) => {
        const p = e[i].map((v) => v / e[i].reduce((x, y) => x + y, 0));
        return s + (1 - p[K]) * -Math.log(p[ys[i]]);
      }, 0) / rows.length;
    };
    loss(oneHot(K + 1), tf.tensor2d(logits)); // not a training batch: no update
    expect(state.ewmaStarted).toBe(false);
    state.phase.inTrainingStep = true;
    loss(oneHot(K + 1), tf.tensor2d(logits));
    const first = batch(logits, labels);
    expect(state.ewma.dataSync()[0]).toBeCloseTo(first, 5);
    const second = logits.slice(0, 2);
    loss(tf.oneHot(tf.tensor1d([0, 1], 'int32'), K + 1).toFloat(), tf.tensor2d(second));
    expect(state.ewma.dataSync()[0]).toBeCloseTo(0.05 * batch(second, [0, 1]) + 0.95 * first, 5);
    state.dispose();
  });

  it('rejects labels and outputs of the wrong width', () => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    const loss = unknownAwareLoss(K, 'logits', state);
    expect(() => loss(oneHot(K + 1), tf.zeros([4, K]))).toThrow(/needs numClasses \+ 1 = 4 outputs, got 3/);
    expect(() => loss(tf.zeros([4, 7]), tf.zeros([4, K + 1]))).toThrow(/one-hot labels over 3 or 4 columns/);
    state.dispose();
  });
});

describe('opt-in loss variants', () => {
  /** Per-sample softmax pieces in float64: h (CE over K+1), u (clamped), p(label). */
  const pieces = logits.map((z, i) => {
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    return { h: -Math.log(p[labels[i]]), u: Math.min(Math.max(p[K], 1e-7), 1 - 1e-7), py: p[labels[i]] };
  });
  const mean = (f: (x: (typeof pieces)[number]) => number) => pieces.reduce((s, x) => s + f(x), 0) / pieces.length;
  const lossOf = (variant: 'abstention' | 'log-unknown', alpha: number): number => {
    const state = new UnknownAwareState(0.05, new FitPhase());
    state.alpha.assign(tf.scalar(alpha));
    const value = tf.mean(unknownAwareLoss(K, 'logits', state, variant)(oneHot(K + 1), tf.tensor2d(logits))).dataSync()[0];
    state.dispose();
    return value;
  };

  it.each([0.5, 4])("'abstention' (DAC) at α = %p: (1 − u)·(−log(p_y / (1 − u))) − α·log(1 − u)", (alpha) => {
    expect(lossOf('abstention', alpha)).toBeCloseTo(mean(({ u, py }) => (1 - u) * -Math.log(py / (1 - u)) - alpha * Math.log(1 - u)), 5);
  });

  it.each([0.5, 4])("'log-unknown' at α = %p: h + α·log(u)/(1 + α·u)", (alpha) => {
    expect(lossOf('log-unknown', alpha)).toBeCloseTo(mean(({ h, u }) => h + (alpha * Math.log(u)) / (1 + alpha * u)), 5);
  });

  it('both are plain cross-entropy while α = 0 (warm-up)', () => {
    const ce = mean(({ h }) => h);
    expect(lossOf('abstention', 0)).toBeCloseTo(ce, 5);
    expect(lossOf('log-unknown', 0)).toBeCloseTo(ce, 5);
  });
});
