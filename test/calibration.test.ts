import * as tf from '@tensorflow/tfjs';
import { accuracy, expectedCalibrationError, expectedCalibrationErrorAsync, MoonMetricError } from '../src';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const refs = require('./fixtures/metric-refs.json') as {
  provenance: string;
  calibration: { name: string; probabilities: number[][]; labels: number[]; expected: Record<string, number> }[];
};

describe('ECE on hand-worked cases (1e-9)', () => {
  it('weights |accuracy − confidence| per bin by the bin share', () => {
    // 10 bins: (0.9,1]: conf .95, acc 1 → .05·¼; (0.8,0.9]: .85, acc 0 → .85·¼; (0.6,0.7]: mean .615, acc 1 → .385·½.
    const input = { confidences: [0.95, 0.85, 0.62, 0.61], correct: [1, 0, 1, 1] };
    expect(expectedCalibrationError(input, { bins: 10 })).toBeCloseTo(0.0125 + 0.2125 + 0.1925, 9);
    expect(expectedCalibrationError(input, { variant: 'reference' })).toBeCloseTo(0.4175, 9);
  });

  it('puts edges where the definitions say: (lo, hi] for Guo, [lo, hi) and conf = 1 dropped for the reference', () => {
    const input = { confidences: [1, 0.5, 0.3], correct: [1, 0, 1] };
    // Guo, 10 bins: 1 → (0.9,1] gap 0; 0.5 → (0.4,0.5] gap .5; 0.3 → (0.2,0.3] gap .7 → (.5 + .7)/3.
    expect(expectedCalibrationError(input, { bins: 10 })).toBeCloseTo(1.2 / 3, 9);
    // Reference: 1 is dropped; 0.5 → [0.5,0.6) gap .5; 0.3 → [0.3,0.4) gap .7; weights over the 2 binned samples.
    expect(expectedCalibrationError(input, { variant: 'reference' })).toBeCloseTo(0.6, 9);
    // One bin: |mean acc − mean conf| = |2/3 − 0.6|.
    expect(expectedCalibrationError(input, { bins: 1 })).toBeCloseTo(Math.abs(2 / 3 - 0.6), 9);
  });

  it('is 0 for perfect calibration', () => {
    expect(expectedCalibrationError({ confidences: [1, 1, 1], correct: [1, 1, 1] })).toBe(0);
  });
});

describe(`ECE and accuracy against an independent numpy implementation (${refs.provenance}) to 1e-6`, () => {
  it.each(refs.calibration.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const probabilities = tf.tensor2d(c.probabilities);
    expect(Math.abs(expectedCalibrationError({ probabilities, labels: c.labels }) - c.expected.ece15)).toBeLessThan(1e-6);
    expect(Math.abs(expectedCalibrationError({ probabilities, labels: c.labels }, { bins: 10 }) - c.expected.ece10)).toBeLessThan(1e-6);
    const reference = expectedCalibrationError({ probabilities: c.probabilities, labels: c.labels }, { variant: 'reference' });
    expect(Math.abs(reference - c.expected.eceReference)).toBeLessThan(1e-6);
    expect(accuracy(probabilities, c.labels, { numClasses: c.probabilities[0].length })).toBeCloseTo(c.expected.accuracy, 12);
    probabilities.dispose();
  });
});

describe('accuracy over K+1 or K columns', () => {
  // Row 0: unknown (column 2) wins, class 0 second; row 1: class 1 wins. Built per test: the backend is set in beforeAll.
  const output = () => tf.tensor2d([[0.3, 0.1, 0.6], [0.1, 0.8, 0.1]]);
  it("'K+1' counts an unknown prediction as wrong; 'K' takes the argmax of the known columns", () => {
    expect(accuracy(output(), [0, 1], { numClasses: 2 })).toBe(0.5);
    expect(accuracy(output(), [0, 1], { numClasses: 2, over: 'K' })).toBe(1);
    expect(accuracy(output(), tf.tensor2d([[1, 0], [0, 1]]), { numClasses: 2, over: 'K' })).toBe(1); // one-hot labels
  });
  it('rejects bad input', () => {
    expect(() => accuracy(output(), [0], { numClasses: 2 })).toThrow(/labels has 1 entries but the output has 2 rows/);
    expect(() => accuracy(output(), [0, 1], { numClasses: 4 })).toThrow(/numClasses must be an integer in \[1, 3\]/);
  });
});

describe('bad input to ECE', () => {
  it.each([
    [{ confidences: [], correct: [] }, {}, /confidences is empty/],
    [{ confidences: [0.5], correct: [1, 0] }, {}, /confidences has 1 entries but correct has 2/],
    [{ confidences: [0.5], correct: [1] }, { bins: 0 }, /bins must be a positive integer/],
    [{ confidences: [1.5], correct: [1] }, {}, /confidences\[0\] is 1.5/],
    [{ confidences: [NaN], correct: [1] }, {}, /confidences\[0\] is NaN/],
    [{ probabilities: [[0.5, 0.6]], labels: [0] }, {}, /row 0 of probabilities sums to 1.1/],
    [{ probabilities: [[0.5, 0.5], [1, 0]], labels: [0] }, {}, /labels has 1 entries but probabilities has 2 rows/],
  ] as const)('%p %p', (input, options, message) => {
    expect(() => expectedCalibrationError(input as never, options as never)).toThrow(MoonMetricError);
    expect(() => expectedCalibrationError(input as never, options as never)).toThrow(message);
  });
});

describe('expectedCalibrationErrorAsync', () => {
  it.each(refs.calibration.map((c) => [c.name, c] as const))('%s: equals the sync form, tensors and one-hot labels included', async (_name, c) => {
    const probabilities = tf.tensor2d(c.probabilities);
    const oneHot = tf.oneHot(tf.tensor1d(c.labels, 'int32'), c.probabilities[0].length);
    for (const options of [{}, { bins: 10 }, { variant: 'reference' as const }]) {
      const sync = expectedCalibrationError({ probabilities, labels: c.labels }, options);
      expect(await expectedCalibrationErrorAsync({ probabilities, labels: c.labels }, options)).toBe(sync);
      expect(await expectedCalibrationErrorAsync({ probabilities, labels: oneHot }, options)).toBe(sync);
    }
    expect(Math.abs((await expectedCalibrationErrorAsync({ probabilities, labels: c.labels })) - c.expected.ece15)).toBeLessThan(1e-6);
    tf.dispose([probabilities, oneHot]);
  });

  it('rejects what the sync form rejects', async () => {
    await expect(expectedCalibrationErrorAsync({ probabilities: [[0.5, 0.6]], labels: [0] })).rejects.toThrow(/row 0 of probabilities sums to 1.1/);
    await expect(expectedCalibrationErrorAsync({ probabilities: [[0.5, 0.5]], labels: [0, 1] })).rejects.toThrow(MoonMetricError);
    await expect(expectedCalibrationErrorAsync({ confidences: [0.5] , correct: [1] }, { bins: 0 })).rejects.toThrow(/bins must be a positive integer/);
  });
});
