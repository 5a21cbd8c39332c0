import * as fs from 'fs';
import * as path from 'path';
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import { rocCurve } from 'tfjs-moon';
import { CliError } from './cli-error';
import { detectorTables, moonBestTable, sparsityEffectTable } from './detector-report';
import { requireOptional } from './optional';
import { readResults, RESULTS_FILE } from './results-file';
import type { RunConfig } from './run-config';
import { extraTags, groupKey as configGroupKey, normalizeConfig } from './run-id';
import type { RunResult } from './train';
import { writeAtomic } from './write-atomic';

/** Runs that differ only by seed. */
interface Group {
  key: string;
  runs: RunResult[];
}

/** Runs that differ only by seed share this key: every other field of the config. */
const groupKey = (r: RunResult) => configGroupKey(r.config);

const normalized = (r: RunResult): RunResult => ({ ...r, config: normalizeConfig(r.config) });

/** The finished runs of a bench or train directory, with their samples when the per-run file is there. */
export function loadRuns(dir: string): RunResult[] {
  const jsonl = path.join(dir, RESULTS_FILE);
  const single = path.join(dir, 'results.json');
  if (fs.existsSync(jsonl)) {
    return readResults(dir).map((summary) => {
      const full = path.join(dir, 'runs', summary.id, 'results.json');
      return normalized(fs.existsSync(full) ? (JSON.parse(fs.readFileSync(full, 'utf8')) as RunResult) : summary);
    });
  }
  if (fs.existsSync(single)) return [normalized(JSON.parse(fs.readFileSync(single, 'utf8')) as RunResult)];
  const trainRuns = trainRunFolders(dir);
  if (trainRuns.length > 0) return trainRuns.map((file) => normalized(JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult));
  throw new CliError(`no results in ${dir}: expected results.jsonl (from bench), results.json (from train), or folders of train runs holding results.json`, 2);
}

/**
 * The `results.json` of each `train` run in a folder of them (`train --out dir/a`, `--out dir/b`, …): its
 * sub-folders (real folders, not links), in name order, that hold a regular `results.json`.
 */
function trainRunFolders(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.lstatSync(dir).isDirectory()) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(dir, entry.name, 'results.json'))
    .filter((file) => fs.existsSync(file) && fs.lstatSync(file).isFile())
    .sort();
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std };
}

/** Values in [0, 1] as points: "mean ± std" over runs ('–' when a run lacks the metric). */
export const pm = (values: readonly number[]): string => {
  if (values.some((v) => !Number.isFinite(v))) return '–'; // some run lacks this metric
  const { mean, std } = meanStd(values.map((v) => 100 * v));
  return `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
};

function groups(results: readonly RunResult[]): Group[] {
  const map = new Map<string, RunResult[]>();
  for (const r of results) map.set(groupKey(r), [...(map.get(groupKey(r)) ?? []), r]);
  return [...map.entries()].map(([key, runs]) => ({ key, runs: runs.sort((a, b) => a.config.seed - b.config.seed) }));
}

const label = (r: RunResult) =>
  `${r.config.model} ${r.config.method}${r.config.method === 'dense' ? '' : ` ${r.config.sparsity}`}${r.config.moon ? ' + MOON' : ''}` +
  (r.config.variant ? ` [${r.config.variant}]` : '') + (r.config.epochs ? ` (${r.config.epochs} ep)` : '') +
  extraTags(r.config).map((t) => ` ${t}`).join('');

/** A Markdown table: the header row, its rule, then the rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows].map((c) => `| ${c.join(' | ')} |`).join('\n');
}

/** Mean ± std tables per dataset: accuracy, ECE and, per OOD set, AUROC / AUPR-In / AUPR-Out / FPR@95 (%). */
export function summaryTables(results: readonly RunResult[]): string {
  const sections: string[] = [];
  for (const dataset of [...new Set(results.map((r) => r.config.dataset))]) {
    const gs = groups(results.filter((r) => r.config.dataset === dataset));
    const oodNames = [...new Set(gs.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.metrics.ood))))];
    const header = ['run', 'seeds', 'accuracy', 'ECE', ...oodNames.flatMap((n) => [`${n} AUROC`, `AUPR-In`, `AUPR-Out`, `FPR@95`]), 'density'];
    const rows = gs.map((g) => [
      label(g.runs[0]),
      String(g.runs.length),
      pm(g.runs.map((r) => r.metrics.accuracy)),
      pm(g.runs.map((r) => r.metrics.ece)),
      ...oodNames.flatMap((n) => [
        pm(g.runs.map((r) => r.metrics.ood[n]?.auroc ?? NaN)),
        pm(g.runs.map((r) => r.metrics.ood[n]?.auprIn ?? NaN)),
        pm(g.runs.map((r) => r.metrics.ood[n]?.auprOut ?? NaN)),
        pm(g.runs.map((r) => r.metrics.ood[n]?.fpr95 ?? NaN)),
      ]),
      g.runs[0].density.global.toFixed(3),
    ]);
    sections.push(`### ${dataset}\n\n${markdownTable(header, rows)}`);
  }
  return sections.join('\n\n');
}

/** The quantile function of Student's t (stdlib's, for any degrees of freedom). */
type TQuantile = (p: number, degreesOfFreedom: number) => number;

/**
 * The paired-t 95% confidence interval of the mean of `differences`: mean ± t(0.975, n − 1) · s / √n, with the t
 * quantile computed for any n (not the normal's 1.96 past a table). Undefined for fewer than two pairs (no spread
 * to estimate).
 */
export function pairedInterval(differences: readonly number[]): { mean: number; low: number; high: number } | undefined {
  const n = differences.length;
  if (n < 2) return undefined;
  const { mean, std } = meanStd(differences);
  const half = requireOptional<TQuantile>('@stdlib/stats-base-dists-t-quantile')(0.975, n - 1) * (std / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half };
}

/** A paired difference in points: "mean [low, high]", marked ✱ when the 95% interval excludes 0. */
export function intervalText(differences: readonly number[]): string {
  const points = differences.map((d) => 100 * d);
  const ci = pairedInterval(points);
  if (points.some((p) => !Number.isFinite(p))) return '–'; // a run lacks this metric (e.g. an OOD set it did not score)
  if (ci === undefined) return `${(points[0] ?? NaN).toFixed(2)} (one pair)`;
  // A zero-width interval (identical differences) shows no spread, not significance: no star.
  const excludesZero = ci.high > ci.low && (ci.low > 0 || ci.high < 0);
  return `${ci.mean.toFixed(2)} [${ci.low.toFixed(2)}, ${ci.high.toFixed(2)}]${excludesZero ? ' ✱' : ''}`;
}

/**
 * Each group of MOON runs with the base run of the same configuration and seed: a MOON variant pairs with the plain
 * base run, and a MOON run of any loss variant with the base (which has no unknown-aware loss).
 */
function moonBasePairs(results: readonly RunResult[]): Array<{ group: Group; pairs: Array<readonly [RunResult, RunResult]> }> {
  const byKey = new Map(results.map((r) => [`${groupKey(r)}|${r.config.seed}`, r]));
  const baseConfig = (c: RunConfig): RunConfig => ({ ...c, moon: false, lossVariant: 'released', variant: undefined, ...(c.variant ? { kit: undefined } : {}) });
  const baseKey = (m: RunResult) => `${groupKey({ ...m, config: baseConfig(m.config) })}|${m.config.seed}`;
  return groups(results.filter((r) => r.config.moon))
    .map((group) => ({ group, pairs: group.runs.flatMap((m) => (byKey.has(baseKey(m)) ? [[byKey.get(baseKey(m))!, m] as const] : [])) }))
    .filter((p) => p.pairs.length > 0);
}

/**
 * MOON minus its base run, paired by seed: Δ accuracy, Δ ECE and, per OOD set, Δ AUROC and Δ FPR@95 (points), each
 * as the mean and its paired-t 95% confidence interval over seeds; ✱ marks an interval that excludes 0.
 */
export function moonEffectTable(results: readonly RunResult[]): string {
  const rows: string[][] = [];
  for (const { group: g, pairs } of moonBasePairs(results)) {
    const oodNames = Object.keys(g.runs[0].metrics.ood);
    const diff = (f: (r: RunResult) => number) => intervalText(pairs.map(([b, m]) => f(m) - f(b)));
    rows.push([
      `${g.runs[0].config.dataset}`,
      label(pairs[0][1]).replace(' + MOON', ''),
      String(pairs.length),
      diff((r) => r.metrics.accuracy),
      diff((r) => r.metrics.ece),
      oodNames.map((n) => `${n}: ${diff((r) => r.metrics.ood[n]?.auroc ?? NaN)} / ${diff((r) => r.metrics.ood[n]?.fpr95 ?? NaN)}`).join('<br>'),
    ]);
  }
  const header = ['dataset', 'base run', 'seed pairs', 'Δ accuracy', 'Δ ECE', 'Δ AUROC / Δ FPR@95 per OOD set'];
  return markdownTable(header, rows);
}

/** The scores a base run can be read by (it has no unknown output). */
export type BaseScore = 'msp' | 'energy' | 'max-logit';

/**
 * The unknown output as the detector: AUROC of a MOON run scored by its known mass (1 − p(unknown)) minus the AUROC
 * of its base run scored by `baseScore`, paired by seed, in points with the paired-t 95% interval (✱: excludes 0).
 * Energy and max-logit are compared only for base runs with a linear head: from a softmax head they are not the
 * scores of those names (the logits are known only up to a per-sample constant).
 */
export function knownMassEffectTable(results: readonly RunResult[], baseScore: BaseScore = 'msp'): string {
  const rows: string[][] = [];
  const readable = (b: RunResult) => baseScore === 'msp' || b.config.head === 'linear';
  for (const { group: g, pairs } of moonBasePairs(results)) {
    const scored = pairs.filter(([b, m]) => m.metrics.oodByScore?.['known-mass'] !== undefined && b.metrics.oodByScore?.[baseScore] !== undefined && readable(b));
    if (scored.length === 0) continue;
    const oodNames = Object.keys(g.runs[0].metrics.ood);
    const auroc = (r: RunResult, score: string, n: string) => r.metrics.oodByScore![score][n]?.auroc ?? NaN;
    const cells = oodNames.map((n) => `${n}: ${intervalText(scored.map(([b, m]) => auroc(m, 'known-mass', n) - auroc(b, baseScore, n)))}`);
    rows.push([g.runs[0].config.dataset, label(scored[0][1]).replace(' + MOON', ''), String(scored.length), cells.join('<br>')]);
  }
  if (rows.length === 0) {
    return `(no MOON run with a base run of the same configuration and seed recorded its known-mass score${baseScore === 'msp' ? '' : ` beside a linear-head base scored by ${baseScore}`})`;
  }
  const header = ['dataset', 'base run', 'seed pairs', `Δ AUROC: MOON scored by known mass − base scored by ${baseScore}, per OOD set`];
  return markdownTable(header, rows);
}

/** Mean ± std of small probabilities, in scientific notation (p(unknown) runs from 1e-2 down to 1e-7). */
function pmScientific(values: readonly number[]): string {
  if (values.some((v) => !Number.isFinite(v))) return '–';
  const { mean, std } = meanStd(values);
  return `${mean.toExponential(1)} ± ${std.toExponential(1)}`;
}

/**
 * What the unknown output does, per MOON configuration and OOD set: its mean probability on the ID test set and on
 * the OOD set (a probability, not %), and the AUROC of each score (MSP, energy, max-logit, known mass =
 * 1 − p(unknown)), mean ± std (%). With a softmax head the logits are known only up to a per-sample constant, so
 * max-logit ranks as MSP and energy as the known mass. Base runs with a linear head are listed too (no unknown
 * output: "–"), since their energy and max-logit are the real scores a MOON run must beat.
 */
export function mechanismTable(results: readonly RunResult[]): string {
  const rows: string[][] = [];
  const scores = ['msp', 'energy', 'max-logit', 'known-mass'];
  const listed = (r: RunResult) => (r.config.moon ? r.metrics.unknownMass !== undefined : r.config.head === 'linear' && r.metrics.oodByScore !== undefined);
  for (const g of groups(results.filter(listed))) {
    const moon = g.runs[0].config.moon;
    const scoreCell = (s: string, set: string) => (!moon && s === 'known-mass' ? '–' : pm(g.runs.map((r) => r.metrics.oodByScore?.[s]?.[set]?.auroc ?? NaN)));
    for (const set of Object.keys(g.runs[0].metrics.ood)) {
      rows.push([
        g.runs[0].config.dataset,
        label(g.runs[0]),
        set,
        String(g.runs.length),
        moon ? pmScientific(g.runs.map((r) => r.metrics.unknownMass!.id)) : '–',
        moon ? pmScientific(g.runs.map((r) => r.metrics.unknownMass!.ood[set] ?? NaN)) : '–',
        ...scores.map((s) => scoreCell(s, set)),
      ]);
    }
  }
  if (rows.length === 0) return '(no MOON run recorded p(unknown): runs before this report version)';
  const header = ['dataset', 'run', 'OOD set', 'seeds', 'mean p(unknown) ID', 'mean p(unknown) OOD', ...scores.map((s) => `AUROC ${s}`)];
  return markdownTable(header, rows);
}

/** The ROC curve (ID positive) of two score samples, as AUROC integrates it, thinned to at most `max` points. */
function rocPoints(id: readonly number[], ood: readonly number[], max = 200): { fpr: number; tpr: number }[] {
  const curve = rocCurve(id, ood);
  const points = Array.from(curve.fpr, (fpr, i) => ({ fpr, tpr: curve.tpr[i] }));
  const step = Math.max(1, Math.ceil(points.length / max));
  return points.filter((_, i) => i % step === 0 || i === points.length - 1);
}

/** The figures' vega-lite specs for one (dataset, model): base vs MOON of the first sparse pair, first seed. */
function figureSpecs(results: readonly RunResult[]): Record<string, object> {
  const withSamples = results.filter((r) => r.samples && !r.config.variant); // the main runs, not investigation variants
  const moonRun = withSamples.find((r) => r.config.moon && r.config.method === 'rigl') ?? withSamples.find((r) => r.config.moon);
  if (!moonRun) return {};
  const base = withSamples.find((r) => !r.config.moon && groupKey(r) === groupKey({ ...moonRun, config: { ...moonRun.config, moon: false } }) && r.config.seed === moonRun.config.seed);
  const pair = [base, moonRun].filter((r): r is RunResult => r !== undefined);
  const name = (r: RunResult) => (r.config.moon ? `${r.config.method} + MOON` : r.config.method);
  const roc = pair.flatMap((r) => Object.entries(r.samples.ood).flatMap(([ood, scores]) => rocPoints(r.samples.id, scores).map((p) => ({ ...p, run: name(r), ood }))));
  const hist = pair.flatMap((r) => [
    ...r.samples.id.map((s) => ({ score: s, set: 'in-distribution', run: name(r) })),
    ...Object.entries(r.samples.ood).flatMap(([ood, scores]) => scores.map((s) => ({ score: s, set: ood, run: name(r) }))),
  ]);
  const bins = 15;
  const reliability = pair.flatMap((r) =>
    Array.from({ length: bins }, (_, b) => {
      const inside = r.samples.confidence.map((c, i) => [c, r.samples.correct[i]]).filter(([c]) => c > b / bins && c <= (b + 1) / bins);
      return inside.length === 0 ? [] : [{ confidence: inside.reduce((s, [c]) => s + c, 0) / inside.length, accuracy: inside.reduce((s, [, k]) => s + k, 0) / inside.length, count: inside.length, run: name(r) }];
    }).flat(),
  );
  const density = moonRun.density.layers.map((l) => ({ layer: l.name, density: l.density }));
  const title = `${moonRun.config.dataset}, ${moonRun.config.model}, seed ${moonRun.config.seed}`;
  return {
    roc: {
      title: `ROC (ID positive): ${title}`, data: { values: roc }, mark: { type: 'line', interpolate: 'linear' },
      encoding: { x: { field: 'fpr', type: 'quantitative', title: 'false-positive rate' }, y: { field: 'tpr', type: 'quantitative', title: 'true-positive rate' }, color: { field: 'run' }, column: { field: 'ood', title: 'OOD set' } },
      width: 180, height: 180,
    },
    scores: {
      title: `Max softmax probability: ${title}`, data: { values: hist }, mark: 'bar',
      encoding: { x: { field: 'score', bin: { maxbins: 20 }, title: 'MSP' }, y: { aggregate: 'count', stack: null }, color: { field: 'set' }, opacity: { value: 0.5 }, row: { field: 'run' } },
      width: 360, height: 120,
    },
    reliability: {
      title: `Reliability diagram (15 bins): ${title}`, data: { values: reliability },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'confidence', type: 'quantitative', scale: { domain: [0, 1] }, title: 'mean confidence' }, y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy' }, color: { field: 'run' } } },
        { data: { values: [{ confidence: 0, accuracy: 0 }, { confidence: 1, accuracy: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: 'grey' }, encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } } },
      ],
      width: 260, height: 260,
    },
    density: {
      title: `Per-layer density (${moonRun.config.method}, ERK): ${title}`, data: { values: density }, mark: 'bar',
      encoding: { x: { field: 'layer', sort: null }, y: { field: 'density', type: 'quantitative', scale: { domain: [0, 1] } } },
      width: 240, height: 160,
    },
  };
}

/** Renders a vega-lite spec to an SVG string (no browser, no canvas). */
export async function renderSvg(spec: object): Promise<string> {
  const vega = requireOptional<typeof Vega>('vega');
  const vl = requireOptional<typeof VegaLite>('vega-lite');
  const compiled = vl.compile(spec as VegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** `tfjs-moon report`: Markdown tables (mean ± std over seeds, MOON's paired effect) and SVG figures. */
export async function reportCommand(dir: string, quiet = false): Promise<{ markdown: string; figures: string[] }> {
  const results = loadRuns(dir);
  const figures: string[] = [];
  let figureSection = '';
  const experiments = [...new Set(results.map((r) => `${r.config.dataset}|${r.config.model}`))];
  for (const experiment of experiments) {
    const [dataset, model] = experiment.split('|');
    const specs = figureSpecs(results.filter((r) => r.config.dataset === dataset && r.config.model === model));
    for (const [kind, spec] of Object.entries(specs)) {
      const file = path.join('figures', `${kind}-${dataset}-${model}.svg`);
      writeAtomic(path.join(dir, file), await renderSvg(spec));
      figures.push(file);
      figureSection += `![${kind} ${dataset} ${model}](${file})\n`;
    }
  }
  const env = results[0].environment;
  const markdown = [
    '# tfjs-moon results',
    '',
    `${results.length} runs; backend ${env.backend}, ${env.machine}, Node ${env.node}, tfjs ${env.tfjs}, ${env.date}. Values in %, mean ± std over seeds.`,
    '',
    '## Runs',
    '',
    summaryTables(results),
    '',
    '## MOON minus its base run (paired by seed; points, mean [95% paired-t interval]; ✱: the interval excludes 0)',
    '',
    moonEffectTable(results),
    '',
    '## The unknown output: mean p(unknown) and AUROC (%) by score',
    '',
    mechanismTable(results),
    '',
    '## The unknown output as the detector: MOON scored by known mass minus base scored by MSP (AUROC points, paired by seed)',
    '',
    knownMassEffectTable(results),
    '',
    '## The same against the base run scored by energy (linear heads only: real logits)',
    '',
    knownMassEffectTable(results, 'energy'),
    '',
    '## Post-hoc OOD detectors (fitted on the training split, measured on half the ID test set; --detectors)',
    '',
    detectorTables(results),
    '',
    '### Does sparsity help or hurt each detector? (AUROC averaged over the OOD sets, sparse − dense, paired by seed)',
    '',
    sparsityEffectTable(results),
    '',
    '### MOON + its best detector against dense + its best detector (AUROC averaged over the OOD sets)',
    '',
    moonBestTable(results),
    '',
    '## Figures',
    '',
    figureSection,
  ].join('\n');
  writeAtomic(path.join(dir, 'report.md'), markdown);
  const detectors = results.some((r) => r.metrics.detectors !== undefined) ? `${detectorTables(results)}\n\n` : '';
  if (!quiet) process.stdout.write(`${summaryTables(results)}\n\n${moonEffectTable(results)}\n\n${detectors}(report: ${path.join(dir, 'report.md')}; ${figures.length} figures)\n`);
  return { markdown, figures };
}
