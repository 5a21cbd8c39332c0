import * as tf from '@tensorflow/tfjs';
import {
  accuracy, accuracyAsync, energyScore, energyScoreAsync, maxLogitScore, maxLogitScoreAsync, MoonMetricError, mspScore, mspScoreAsync,
  unknownScore, unknownScoreAsync, type ScoreOptions,
} from '../src';

// Two samples, K = 2 known classes + "unknown": logits [1, 2, 0] and [0, 0, 3].
const rows = [[1, 2, 0], [0, 0, 3]];
const softmax = (r: number[]) => r.map((z) => Math.exp(z) / r.reduce((s, v) => s + Math.exp(v), 0));

describe('scores from a K+1 output (hand-computed)', () => {
  it.each(['logits', 'probabilities'] as const)('from %s', (from) => {
    const output = tf.tensor2d(from === 'logits' ? rows : rows.map(softmax));
    const before = tf.memory().numTensors;
    const p = rows.map(softmax);
    const msp = mspScore(output, { numClasses: 2, from });
    expect(msp[0]).toBeCloseTo(p[0][1], 6); // max of the first K, unknown mass kept in the denominator
    expect(msp[1]).toBeCloseTo(p[1][0], 6);
    const unknown = unknownScore(output, { numClasses: 2, from });
    expect(unknown[0]).toBeCloseTo(1 - p[0][2], 6);
    expect(unknown[1]).toBeCloseTo(1 - p[1][2], 6);
    if (from === 'logits') {
      expect(energyScore(output, { numClasses: 2, from })[0]).toBeCloseTo(Math.log(Math.E + Math.E ** 2), 5);
      expect(energyScore(output, { numClasses: 2, from, temperature: 2 })[1]).toBeCloseTo(2 * Math.log(2), 5);
      expect(Array.from(maxLogitScore(output, { numClasses: 2, from }))).toEqual([2, 0]);
    } else {
      // From probabilities, log p stands in for the logits: energy = log of the known mass, max-logit = log(msp).
      expect(energyScore(output, { numClasses: 2 })[0]).toBeCloseTo(Math.log(p[0][0] + p[0][1]), 5);
      expect(maxLogitScore(output, { numClasses: 2 })[1]).toBeCloseTo(Math.log(p[1][0]), 5);
    }
    expect(tf.memory().numTensors).toBe(before); // no leaks
    output.dispose();
  });

  it('a K-wide output: MSP is the plain max softmax', () => {
    const output = tf.tensor2d([[0.2, 0.8], [0.6, 0.4]]);
    expect(Array.from(mspScore(output, { numClasses: 2 }))).toEqual([0.800000011920929, 0.6000000238418579]);
    output.dispose();
  });
});

describe('bad input to scores', () => {
  it('numClasses larger than the output width, and unknownScore without an unknown column', () => {
    const output = tf.tensor2d(rows);
    expect(() => mspScore(output, { numClasses: 4 })).toThrow(MoonMetricError);
    expect(() => mspScore(output, { numClasses: 4 })).toThrow(/numClasses is 4 but the output has only 3 columns/);
    expect(() => unknownScore(output, { numClasses: 3 })).toThrow(/expected numClasses \+ 1 = 4/);
    expect(() => energyScore(output, { numClasses: 2, temperature: 0 })).toThrow(/temperature must be a positive number/);
    expect(() => mspScore(output, { numClasses: 2, from: 'softmax' as never })).toThrow(/from must be 'probabilities' or 'logits'/);
    expect(() => mspScore(output, { numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    expect(() => mspScore(output, undefined as never)).toThrow(/needs options/);
    expect(() => mspScore(tf.tensor1d([1, 2]), { numClasses: 1 })).toThrow(/2-D output tensor/);
    output.dispose();
  });
});

describe('asynchronous forms (no synchronous device read: WebGPU in Node has none)', () => {
  it('each score, and accuracy, equal their synchronous form', async () => {
    const logits = tf.tensor2d([[2, 0.5, -1, 0.2], [0, 3, 0.1, -2], [1, 1, 1, 4]]);
    const probs = tf.softmax(logits);
    const pairs: [(o: tf.Tensor, opt: ScoreOptions) => Float32Array, (o: tf.Tensor, opt: ScoreOptions) => Promise<Float32Array>][] = [
      [mspScore, mspScoreAsync], [energyScore, energyScoreAsync], [maxLogitScore, maxLogitScoreAsync], [unknownScore, unknownScoreAsync],
    ];
    for (const [sync, async] of pairs) {
      for (const [output, from] of [[logits, 'logits'], [probs, 'probabilities']] as const) {
        expect(Array.from(await async(output, { numClasses: 3, from }))).toEqual(Array.from(sync(output, { numClasses: 3, from })));
      }
    }
    await expect(mspScoreAsync(logits, { numClasses: 3 })).rejects.toThrow(/mspScoreAsync: the output does not hold probabilities/);
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    expect(await accuracyAsync(probs, labels, { numClasses: 3 })).toBe(accuracy(probs, labels, { numClasses: 3 }));
    expect(await accuracyAsync(probs, [0, 1, 3], { numClasses: 3 })).toBeCloseTo(1, 9); // row 3 predicts "unknown" (column 3)
    expect(labels.isDisposed).toBe(false); // the caller's labels are read, never disposed
    tf.dispose([logits, probs, labels]);
  });
});
