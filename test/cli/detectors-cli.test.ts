import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { fitDetector, idRejectedAtOodTpr, oodMetrics, RECOMMENDED_DETECTOR } from '../../src';
import { expandBench, trainFlags } from '../../src/cli/bench';
import { calibrationSplit, detectorNames, evaluateDetectors, type DetectorFigures } from '../../src/cli/detector-evaluation';
import { bestDetector, detectorTables, moonBestTable, sparsityEffectTable } from '../../src/cli/detector-report';
import { buildModel } from '../../src/cli/models';
import { RUN_DEFAULTS, type RunConfig } from '../../src/cli/run-config';
import type { RunResult } from '../../src/cli/train';
import { cli } from '../helpers/cli';

const backend = process.env.TFJS_TEST_BACKEND ?? 'cpu';

describe('--detectors: names, the calibration split, and early errors', () => {
  it('expands all (MOON\'s two only for MOON runs) and reads a comma list', () => {
    expect(detectorNames('all', true)).toHaveLength(16);
    expect(detectorNames('all', false)).not.toContain('knownMass');
    expect(detectorNames('all', false)).toHaveLength(14);
    expect(detectorNames(' knn, vim ,msp', false)).toEqual(['knn', 'vim', 'msp']);
    expect(detectorNames('recommended', false)).toEqual([RECOMMENDED_DETECTOR.name]);
    expect(detectorNames('msp,recommended', false)).toEqual(['msp', RECOMMENDED_DETECTOR.name]);
    expect(() => detectorNames('knn,KNN', true)).toThrow(/--detectors: unknown KNN; the detectors are msp, temperature/);
    expect(() => detectorNames(' , ', true)).toThrow(/expected 'all' or a list/);
  });

  it('splits the ID test set into two disjoint seeded halves that cover it', () => {
    const { calibration, evaluation } = calibrationSplit(11, 3);
    expect(calibration).toHaveLength(5);
    expect(evaluation).toHaveLength(6);
    expect([...calibration, ...evaluation].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(Array.from(calibrationSplit(11, 3).calibration)).toEqual(Array.from(calibration));
    expect(Array.from(calibrationSplit(11, 4).calibration)).not.toEqual(Array.from(calibration));
  });

  it('an unknown detector in train or in a bench config fails before any training (exit code 2)', async () => {
    const { code, stderr } = await cli(['train', '--detectors', 'knn,mahalanobiss', '--backend', backend, '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'moon-det-'))]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--detectors: unknown mahalanobiss/);
    expect(() => expandBench({ runs: [{ dataset: 'mnist6', detectors: 5 as never }] })).toThrow(/detectors must be 'all' or names separated by commas/);
    expect(() => expandBench({ runs: [{ dataset: 'mnist6', detectors: 'knn,nope' }] })).toThrow(/unknown nope/);
    expect(expandBench({ runs: [{ dataset: 'mnist6', detectors: 'all' }] })[0].detectors).toBe('all');
  });
});

describe('a bench with detectors', () => {
  it('passes --detectors to its trainers: every run records each detector, and the report tables them', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-det-bench-'));
    const file = path.join(out, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ defaults: { dataset: 'mnist6', epochs: 2, trainLimit: 120, testLimit: 60, detectors: 'msp,knn' }, runs: [{ seed: 1 }] }));
    expect(trainFlags(expandBench(JSON.parse(fs.readFileSync(file, 'utf8')))[0]).slice(-2)).toEqual(['--detectors', 'msp,knn']);
    const repo = path.resolve(__dirname, '../..');
    execFileSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'bench', file, '--out', out, '--jobs', '1', '--backend', 'cpu'], { cwd: repo, stdio: 'ignore', timeout: 120_000 });
    const [result] = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunResult);
    expect(result.id).toMatch(/^mnist6_mlp_rigl_s0\.9_moon_e2_train120_test60_det-[0-9a-f]{6}_seed1$/);
    expect(Object.keys(result.metrics.detectors!)).toEqual(['msp', 'knn']);
    const knn = result.metrics.detectors!.knn;
    expect(knn.ood['mnist-6-9'].auroc).toBeGreaterThan(0);
    expect(knn.ood['mnist-6-9'].auroc).toBeLessThan(1);
    expect(knn.idAccepted).toBeGreaterThan(0.7); // 30 held-out digits calibrate the threshold for the other 30
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('### mnist6, mlp, rigl 0.9 + MOON\n');
    expect(report).toMatch(/\| knn \| 1 \| \d+\.\d\d ± 0\.00; Δ -?\d+\.\d\d \(one pair\) \|/);
  }, 150_000);
});

describe('evaluateDetectors measures each detector as fitDetector + calibrate would', () => {
  it('fits on the training split, calibrates on one half of the ID test set, measures on the other', async () => {
    const model = buildModel('mlp', 7, 2, 'softmax'); // untrained: the figures only have to match the API's
    const rows = (n: number, seed: number) => tf.randomUniform([n, 784], 0, 1, 'float32', seed);
    const train = { x: rows(60, 1), labels: Int32Array.from({ length: 60 }, (_, i) => i % 6) };
    const test = { x: rows(40, 2), labels: Int32Array.from({ length: 40 }, (_, i) => i % 6) };
    const ood = [{ name: 'noise', x: rows(30, 3) }];
    const before = tf.memory().numTensors;
    const figures = await evaluateDetectors(['knn', 'temperature'], model, 6, { train, test, ood }, { seed: 5 });
    expect(tf.memory().numTensors).toBe(before);

    const split = calibrationSplit(40, 5);
    const half = (indices: Int32Array) => tf.gather(test.x, tf.tensor1d(indices, 'int32'));
    const [xCal, xEval] = [half(split.calibration), half(split.evaluation)];
    const check = async (name: string, got: DetectorFigures, fitOn: { x: tf.Tensor; labels: ArrayLike<number> }) => {
      const detector = await fitDetector(name, { model, numClasses: 6, ...fitOn });
      const threshold = await detector.calibrate(xCal, { tpr: 0.95 });
      const [id, noise] = [await detector.score(xEval), await detector.score(ood[0].x)];
      expect(got.threshold).toBe(threshold);
      expect(got.idAccepted).toBe(id.filter((s) => s >= threshold).length / 20);
      expect(got.ood.noise).toEqual({ ...oodMetrics(id, noise), idRejectedAt95: idRejectedAtOodTpr(id, noise), oodAccepted: noise.filter((s) => s >= threshold).length / 30 });
      detector.dispose();
    };
    await check('knn', figures.knn, train);
    await check('temperature', figures.temperature, { x: xCal, labels: Array.from(split.calibration, (i) => test.labels[i]) }); // fitted on held-out labels
    tf.dispose([xCal, xEval, train.x, test.x, ood[0].x]);
    model.dispose();
  });
});

/** A minimal run result with detector figures: AUROC per detector on one OOD set. */
function run(method: 'dense' | 'rigl', moon: boolean, seed: number, aurocs: Record<string, number>): RunResult {
  const config = { ...RUN_DEFAULTS, method, sparsity: method === 'dense' ? 0 : 0.9, moon, seed, detectors: 'all' } as RunConfig;
  const detectors = Object.fromEntries(Object.entries(aurocs).map(([d, auroc]) => [d, {
    threshold: 0, idAccepted: 0.95, fitSeconds: 0, scoreSeconds: 0,
    ood: { digits: { auroc, auprIn: 0, auprOut: 0, fpr95: 1 - auroc, idRejectedAt95: 0.5, oodAccepted: 0.4 } },
  }]));
  return { config, metrics: { detectors } } as unknown as RunResult;
}

describe('the detector report', () => {
  const results = [
    run('dense', false, 1, { msp: 0.8, knn: 0.9 }), run('dense', false, 2, { msp: 0.82, knn: 0.9 }),
    run('rigl', false, 1, { msp: 0.78, knn: 0.85 }), run('rigl', false, 2, { msp: 0.81, knn: 0.87 }),
    run('rigl', true, 1, { msp: 0.79, knn: 0.95 }), run('rigl', true, 2, { msp: 0.81, knn: 0.93 }),
  ];

  it('tables each arm\'s detectors with their paired difference to MSP', () => {
    const text = detectorTables(results);
    expect(text).toContain('### mnist6, mlp, dense\n');
    expect(text).toContain('| detector | seeds | digits AUROC; Δ vs MSP, paired | FPR@95: OOD accepted at 95% ID (mean over sets) |');
    // dense knn − msp: 10 and 8 points: mean 9, t(0.975, 1) · s / √2 = 12.706 · 1.414 / 1.414 = 12.71.
    expect(text).toMatch(/\| knn \| 2 \| 90\.00 ± 0\.00; Δ 9\.00 \[-3\.71, 21\.71\] \| 10\.00 ± 0\.00 \| 50\.00 ± 0\.00 \| 40\.00 ± 0\.00 \|/);
    expect(text).toContain('| msp | 2 | 81.00 ± 1.41 | 19.00 ± 1.41 |');
    expect(text.indexOf('rigl 0.9 + MOON')).toBeGreaterThan(text.indexOf('rigl 0.9\n'));
  });

  it('pairs sparse with dense by seed, and MOON + best with dense + best', () => {
    // rigl − dense: msp −2 and −1 (mean −1.5, half-width 12.706 · 0.707 / √2 = 6.35); knn −5 and −3 → mean −4.
    expect(sparsityEffectTable(results)).toMatch(/\| mnist6 mlp \| rigl 0\.9 − dense \| 2 \| msp: -1\.50 \[-7\.85, 4\.85\]<br>knn: -4\.00 \[-16\.71, 8\.71\] \|/);
    expect(bestDetector(results.slice(4))).toEqual({ name: 'knn', auroc: 0.94 });
    // MOON's best (knn 95, 93) − dense's best (knn 90, 90): 5 and 3.
    expect(moonBestTable(results)).toMatch(/\| mnist6 mlp \| rigl 0\.9 \+ MOON: knn 94\.00 \| dense: knn 90\.00 \| 2 \| 4\.00 \[-8\.71, 16\.71\] \|/);
  });

  it('gives no difference to MSP where a run did not measure MSP', () => {
    const text = detectorTables([run('dense', false, 1, { vim: 0.9 })]);
    expect(text).toContain('| vim | 1 | 90.00 ± 0.00 | 10.00 ± 0.00 |');
  });

  it('says so when no run measured detectors', () => {
    expect(detectorTables([{ ...results[0], metrics: {} } as RunResult])).toMatch(/no run measured detectors/);
  });
});
