import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonConfigError, MoonMetricError } from '../src';
import { rejectUnknownKeys, requireInteger, requireNumberIn, requireOneOf, requirePositive } from '../src/core/validate';

describe('option checks (core/validate)', () => {
  it('returns valid values', () => {
    expect(requireInteger('n', 3, 1)).toBe(3);
    expect(requireNumberIn('p', 0.5, 0, 1)).toBe(0.5);
    expect(requireNumberIn('p', 1, 0, 1, true)).toBe(1);
    expect(requirePositive('t', 0.1)).toBe(0.1);
    expect(requireOneOf('k', 'b', ['a', 'b'] as const)).toBe('b');
  });

  it('says what the option must be and what it got, with the error class asked for', () => {
    expect(() => requireInteger('n', 0, 1, 'a count')).toThrow(new MoonConfigError('n must be a positive integer, got 0: a count'));
    expect(() => requireInteger('n', 1.5, 0)).toThrow('n must be an integer ≥ 0, got 1.5');
    expect(() => requireNumberIn('p', 1, 0, 1)).toThrow('p must be a number in [0, 1), got 1');
    expect(() => requirePositive('t', NaN, '', MoonMetricError)).toThrow(MoonMetricError);
    expect(() => requireOneOf('k', 'c', ['a', 'b', 'd'] as const)).toThrow("k must be 'a', 'b' or 'd', got \"c\"");
    expect(() => requireOneOf('k', 3, ['a'] as const)).toThrow("k must be 'a', got 3");
  });

  it('rejects unknown keys, suggesting the closest', () => {
    expect(() => rejectUnknownKeys({ intervl: 1 }, ['interval', 'decay'], 'options.mask')).toThrow(
      'options.mask has unknown key "intervl" (did you mean "interval"?); valid keys: interval, decay',
    );
    expect(() => rejectUnknownKeys({ a: 1 }, ['a'], 'x')).not.toThrow();
    expect(() => rejectUnknownKeys(undefined, ['a'], 'x')).not.toThrow();
  });
});

describe('lossVariant', () => {
  it('is checked by name and reported in the settings', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })] });
    expect(() => createMoon({ model, numClasses: 2, epochs: 2, stepsPerEpoch: 1, lossVariant: 'dac' as never })).toThrow(/lossVariant must be 'released', 'abstention' or 'log-unknown'/);
    const kit = createMoon({ model, numClasses: 2, epochs: 2, stepsPerEpoch: 1, sparsity: 0.5, lossVariant: 'abstention' });
    expect(kit.settings.lossVariant).toBe('abstention');
    kit.dispose();
    model.dispose();
  });
});
