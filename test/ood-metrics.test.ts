import { aupr, auroc, fprAtTpr, idRejectedAtOodTpr, MoonMetricError, oodAcceptedAtIdTpr, oodMetrics } from '../src';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const refs = require('./fixtures/metric-refs.json') as {
  provenance: string;
  ood: { name: string; id: number[]; ood: number[]; expected: Record<string, number> }[];
};

describe('OOD metrics on hand-worked cases (1e-9)', () => {
  // id = [3, 2, 2, 1], ood = [2, 1, 0]. Distinct thresholds 3, 2, 1, 0 give (tp, fp) = (1,0), (3,1), (4,2), (4,3).
  const id = [3, 2, 2, 1];
  const ood = [2, 1, 0];

  it('AUROC counts ties as half: 19/24', () => {
    // ROC (0,0) (0,¼) (⅓,¾) (⅔,1) (1,1): 1/6 + 7/24 + 1/3 = 19/24; pairwise: (3 + 2·2.5 + 1.5)/12 = 9.5/12.
    expect(auroc(id, ood)).toBeCloseTo(19 / 24, 9);
  });

  it('AUPR-In runs from full recall to (0, 1): 83/96', () => {
    // (recall, precision): (1, ⅔) (¾, ¾) (¼, 1) (0, 1): ¼·(17/12)/2 + ½·(7/4)/2 + ¼·1 = 17/96 + 42/96 + 24/96.
    expect(aupr(id, ood)).toBeCloseTo(83 / 96, 9);
  });

  it('AUPR-Out ranks OOD by −score: 29/36', () => {
    // thresholds 0, −1, −2, −3 on −score: (tp, fp) = (1,0), (2,1), (3,3), (3,4); PR (1,½) (⅔,⅔) (⅓,1) (0,1).
    expect(aupr(id, ood, { positive: 'ood' })).toBeCloseTo(29 / 36, 9);
  });

  it('FPR at a TPR target on the full curve, both conventions', () => {
    expect(fprAtTpr(id, ood, 0.95)).toBeCloseTo(2 / 3, 9); // first TPR ≥ 0.95 is at threshold 1
    expect(fprAtTpr(id, ood, 0.75)).toBeCloseTo(1 / 3, 9); // TPR exactly 0.75 at threshold 2
    expect(fprAtTpr(id, ood, 0.95, { positive: 'ood' })).toBeCloseTo(3 / 4, 9);
    expect(fprAtTpr(id, ood, 1)).toBeCloseTo(2 / 3, 9);
  });

  it('the two FPR@95 conventions by name: ours (OOD accepted) and OpenOOD\'s (ID rejected)', () => {
    // Ours: keep ≥ 95% of ID → threshold 1 → 2 of 3 OOD accepted.
    expect(oodAcceptedAtIdTpr(id, ood)).toBeCloseTo(2 / 3, 9);
    // OpenOOD's: catch ≥ 95% of OOD (−score thresholds 0, −1, −2, …): all 3 only at score ≤ 2 → 3 of 4 ID rejected.
    expect(idRejectedAtOodTpr(id, ood)).toBeCloseTo(3 / 4, 9);
    // At 60% OOD caught (2 of 3: scores ≤ 1), ID rejected is the one ID at 1: ¼.
    expect(idRejectedAtOodTpr(id, ood, 0.6)).toBeCloseTo(1 / 4, 9);
    expect(oodMetrics(id, ood).fpr95).toBe(oodAcceptedAtIdTpr(id, ood));
    expect(() => idRejectedAtOodTpr(id, ood, 0)).toThrow(MoonMetricError);
  });

  it('perfect separation, reversed separation, and all ties', () => {
    expect(oodMetrics([0.9, 0.8], [0.1, 0.2])).toEqual({ auroc: 1, auprIn: 1, auprOut: 1, fpr95: 0 });
    expect(auroc([0.1, 0.2], [0.9, 0.8])).toBe(0);
    expect(fprAtTpr([0.1, 0.2], [0.9, 0.8])).toBe(1);
    // One threshold: ROC (0,0)→(1,1) = ½; PR (1, ½) → (0, 1) = ¾ on both sides.
    expect(oodMetrics([0.5, 0.5], [0.5, 0.5])).toEqual({ auroc: 0.5, auprIn: 0.75, auprOut: 0.75, fpr95: 1 });
  });

  it('one sample per side', () => {
    expect(oodMetrics([1], [0])).toEqual({ auroc: 1, auprIn: 1, auprOut: 1, fpr95: 0 });
  });
});

describe(`OOD metrics against scikit-learn (${refs.provenance}) to 1e-6`, () => {
  it.each(refs.ood.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const m = oodMetrics(c.id, c.ood);
    expect(Math.abs(m.auroc - c.expected.auroc)).toBeLessThan(1e-6);
    expect(Math.abs(m.auprIn - c.expected.auprIn)).toBeLessThan(1e-6);
    expect(Math.abs(m.auprOut - c.expected.auprOut)).toBeLessThan(1e-6);
    expect(Math.abs(m.fpr95 - c.expected.fpr95)).toBeLessThan(1e-6);
    expect(Math.abs(fprAtTpr(c.id, c.ood, 0.8) - c.expected.fpr80)).toBeLessThan(1e-6);
    expect(Math.abs(fprAtTpr(c.id, c.ood, 0.95, { positive: 'ood' }) - c.expected.fpr95OodPositive)).toBeLessThan(1e-6);
  });
});

describe('bad input to OOD metrics', () => {
  it.each([
    [[], [1], /id scores is empty/],
    [[1], [], /ood scores is empty/],
    [[1, NaN], [0], /id scores\[1\] is NaN: scores must be finite/],
    [[1], [Infinity], /ood scores\[0\] is Infinity/],
    [undefined, [0], /id scores is missing/],
  ] as const)('%p vs %p', (id, ood, message) => {
    expect(() => auroc(id as unknown as number[], ood as unknown as number[])).toThrow(MoonMetricError);
    expect(() => oodMetrics(id as unknown as number[], ood as unknown as number[])).toThrow(message);
  });

  it.each([0, -0.1, 1.01, NaN])('TPR target %p', (tpr) => {
    expect(() => fprAtTpr([1], [0], tpr)).toThrow(/target TPR must be a number in \(0, 1\]/);
  });

  it('an unknown positive class', () => {
    expect(() => aupr([1], [0], { positive: 'in' as never })).toThrow(/positive must be 'id' or 'ood'/);
  });
});

describe("FPR@95 on the thinned ROC curve (scikit-learn's drop_intermediate, the reference evaluator)", () => {
  // 90 ID scores alone at the top, then 10 distinct scores each shared by one ID and one OOD sample (a collinear
  // diagonal run), then 90 OOD scores. Expected values from scikit-learn 0.24's roc_curve code replayed in numpy
  // (_binary_clf_curve, then np.diff(·, 2) thinning): 0.05 on the full curve, 0.10 on the thinned one.
  const id = [...Array.from({ length: 90 }, (_, i) => 1000 - i), ...Array.from({ length: 10 }, (_, i) => 900 - i)];
  const ood = [...Array.from({ length: 10 }, (_, i) => 900 - i), ...Array.from({ length: 90 }, (_, i) => 500 - i)];

  it('differs from the full curve inside a long run of tied scores', () => {
    expect(fprAtTpr(id, ood, 0.95)).toBeCloseTo(0.05, 12);
    expect(fprAtTpr(id, ood, 0.95, { roc: 'thinned' })).toBeCloseTo(0.1, 12);
    expect(oodMetrics(id, ood).fpr95).toBeCloseTo(0.05, 12);
    expect(oodMetrics(id, ood, { roc: 'thinned' }).fpr95).toBeCloseTo(0.1, 12);
    // AUROC is the same on both curves (thinning drops collinear points only).
    expect(oodMetrics(id, ood, { roc: 'thinned' }).auroc).toBe(oodMetrics(id, ood).auroc);
  });

  it('agrees with the full curve where every point bends (alternating scores)', () => {
    const idAlt = Array.from({ length: 40 }, (_, i) => 100 - 2 * i);
    const oodAlt = Array.from({ length: 40 }, (_, i) => 99 - 2 * i);
    expect(fprAtTpr(idAlt, oodAlt, 0.95, { roc: 'thinned' })).toBeCloseTo(0.925, 12);
    expect(fprAtTpr(idAlt, oodAlt, 0.95)).toBeCloseTo(0.925, 12);
  });

  it('rejects an unknown curve name with a typed error', () => {
    expect(() => fprAtTpr(id, ood, 0.95, { roc: 'thin' as never })).toThrow(MoonMetricError);
    expect(() => oodMetrics(id, ood, { roc: 'thin' as never })).toThrow(/roc must be 'full' or 'thinned'/);
  });
});
