import { dropFractionAt, isMaskUpdateStep, randomPermutation, SeededRandom, type MaskSchedule } from '../src';
import { sampleWithoutReplacement } from '../src/plugins/random-source';

const base: MaskSchedule = { interval: 100, startStep: 0, endStep: 1000, dropFraction: 0.3, decay: 'cosine' };

describe('mask-update schedule', () => {
  it('updates at startStep + k·interval up to endStep', () => {
    const steps = Array.from({ length: 1200 }, (_, i) => i + 1).filter((s) => isMaskUpdateStep(s, base));
    expect(steps).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const shifted = { ...base, startStep: 50, endStep: 260 };
    expect(Array.from({ length: 400 }, (_, i) => i + 1).filter((s) => isMaskUpdateStep(s, shifted))).toEqual([150, 250]);
  });

  it('decays the drop fraction: cosine, linear, constant (hand-computed)', () => {
    expect(dropFractionAt(0, base)).toBeCloseTo(0.3, 12);
    expect(dropFractionAt(500, base)).toBeCloseTo(0.15, 12); // 0.3·(1 + cos(π/2))/2
    expect(dropFractionAt(250, base)).toBeCloseTo((0.3 * (1 + Math.SQRT1_2)) / 2, 12);
    expect(dropFractionAt(500, { ...base, decay: 'linear' })).toBeCloseTo(0.15, 12);
    expect(dropFractionAt(900, { ...base, decay: 'linear' })).toBeCloseTo(0.03, 12);
    expect(dropFractionAt(900, { ...base, decay: 'constant' })).toBe(0.3);
  });

  it("freezes at r(horizon − 1) after the horizon, as the reference code's CosineDecay does", () => {
    // moon-method.md §7.6: T_max = 70 mask steps freezes the rate at 0.3·(1+cos(69π/70))/2 = 1.5104e-4.
    const released = { ...base, decayHorizon: 70 };
    expect(dropFractionAt(5000, released)).toBeCloseTo(1.5104e-4, 8);
    expect(dropFractionAt(70, released)).toBeCloseTo(1.5104e-4, 8);
  });
});

describe('SeededRandom', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('restores its state exactly', () => {
    const a = new SeededRandom(1);
    a.next();
    const state = a.getState();
    const after = [a.next(), a.next()];
    const b = new SeededRandom(999);
    b.setState(state);
    expect([b.next(), b.next()]).toEqual(after);
    expect(() => b.setState([1, 2])).toThrow(RangeError);
  });

  it('draws floats in [0, 1) with a mean near 1/2', () => {
    const r = new SeededRandom(3);
    const xs = Array.from({ length: 20000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('draws a seeded permutation: every index once, repeatable, different across seeds', () => {
    const order = randomPermutation(200, new SeededRandom(3));
    expect(Array.from(order).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Array.from(randomPermutation(200, new SeededRandom(3)))).toEqual(Array.from(order));
    expect(Array.from(randomPermutation(200, new SeededRandom(4)))).not.toEqual(Array.from(order));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Array.from(randomPermutation(0, new SeededRandom(3)))).toEqual([]);
    expect(() => randomPermutation(-1, new SeededRandom(3))).toThrow(/integer ≥ 0/);
  });

  it('samples distinct indices without replacement', () => {
    const picks = sampleWithoutReplacement(100, 30, new SeededRandom(5));
    expect(new Set(picks).size).toBe(30);
    expect(Math.max(...picks)).toBeLessThan(100);
    expect(Array.from(sampleWithoutReplacement(10, 10, new SeededRandom(5))).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => sampleWithoutReplacement(3, 4, new SeededRandom(5))).toThrow(RangeError);
  });
});
