import { intervalText, markdownTable, meanStd, pm } from './report';
import type { RunResult } from './train';

/** The runs of one task (dataset and model) that measured detectors. */
type Task = { dataset: string; model: string; runs: RunResult[] };

/** Which arm of the benchmark a run is: dense, a sparsifier at a sparsity, with or without MOON. */
const armOf = (r: RunResult) => `${r.config.method === 'dense' ? 'dense' : `${r.config.method} ${r.config.sparsity}`}${r.config.moon ? ' + MOON' : ''}`;

/** A run's figure for one detector, averaged over its OOD sets (undefined if it did not measure that detector). */
function averaged(r: RunResult, detector: string, figure: 'auroc' | 'fpr95' | 'idRejectedAt95' | 'oodAccepted'): number | undefined {
  const sets = r.metrics.detectors?.[detector]?.ood;
  if (sets === undefined) return undefined;
  const values = Object.values(sets).map((m) => m[figure]);
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function tasksOf(results: readonly RunResult[]): Task[] {
  const measured = results.filter((r) => r.metrics.detectors !== undefined);
  const keys = [...new Set(measured.map((r) => `${r.config.dataset}|${r.config.model}`))];
  return keys.map((key) => {
    const [dataset, model] = key.split('|');
    return { dataset, model, runs: measured.filter((r) => r.config.dataset === dataset && r.config.model === model) };
  });
}

/** Runs grouped by arm, in the order dense, sparse, sparse + MOON (then any other). */
function arms(task: Task): Array<{ arm: string; runs: RunResult[] }> {
  const names = [...new Set(task.runs.map(armOf))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((arm) => ({ arm, runs: task.runs.filter((r) => armOf(r) === arm).sort((a, b) => a.config.seed - b.config.seed) }));
}
const rank = (arm: string) => (arm.startsWith('dense') ? 0 : 1) + (arm.includes('MOON') ? 2 : 0);

const points = (v: number) => (100 * v).toFixed(2);

/** Every detector any run of the task measured, in the order the first run lists them. */
const detectorsOf = (runs: readonly RunResult[]) => [...new Set(runs.flatMap((r) => Object.keys(r.metrics.detectors ?? {})))];

/** A run's figure for one detector on one OOD set (undefined if it did not measure it). */
const onSet = (r: RunResult, detector: string, set: string, figure: 'auroc' | 'fpr95') => r.metrics.detectors?.[detector]?.ood[set]?.[figure];

/**
 * Per task and arm: each detector's AUROC per OOD set (mean ± std over seeds) with its difference to MSP of the same
 * run (paired, 95% interval; ✱ excludes 0), then, averaged over the OOD sets, FPR@95 in both conventions and the
 * share of OOD accepted at the threshold calibrated on held-out ID data.
 */
export function detectorTables(results: readonly RunResult[]): string {
  const sections: string[] = [];
  for (const task of tasksOf(results)) {
    const oodNames = Object.keys(Object.values(task.runs[0].metrics.detectors!)[0]?.ood ?? {});
    for (const { arm, runs } of arms(task)) {
      const rows = detectorsOf(runs).map((d) => {
        const perSet = oodNames.map((set) => {
          const values = runs.flatMap((r) => onSet(r, d, set, 'auroc') ?? []);
          const paired = runs.filter((r) => onSet(r, d, set, 'auroc') !== undefined && onSet(r, 'msp', set, 'auroc') !== undefined);
          const delta = d === 'msp' || paired.length === 0 ? '' : `; Δ ${intervalText(paired.map((r) => onSet(r, d, set, 'auroc')! - onSet(r, 'msp', set, 'auroc')!))}`;
          return `${pm(values)}${delta}`;
        });
        const of = (figure: 'fpr95' | 'idRejectedAt95' | 'oodAccepted') => runs.flatMap((r) => averaged(r, d, figure) ?? []);
        return [d, String(runs.filter((r) => r.metrics.detectors?.[d] !== undefined).length), ...perSet, pm(of('fpr95')), pm(of('idRejectedAt95')), pm(of('oodAccepted'))];
      });
      const header = ['detector', 'seeds', ...oodNames.map((n) => `${n} AUROC; Δ vs MSP, paired`), 'FPR@95: OOD accepted at 95% ID (mean over sets)', 'OpenOOD FPR@95: ID rejected at 95% OOD', 'OOD accepted at the calibrated threshold'];
      sections.push(`### ${task.dataset}, ${task.model}, ${arm}\n\n${markdownTable(header, rows)}`);
    }
  }
  return sections.join('\n\n') || '(no run measured detectors: run with --detectors all)';
}

/** The runs of `arm` and of `against` in a task with the same seed. */
function pairsBySeed(task: Task, arm: string, against: string): Array<[RunResult, RunResult]> {
  const bySeed = new Map(task.runs.filter((r) => armOf(r) === against).map((r) => [r.config.seed, r]));
  return task.runs.filter((r) => armOf(r) === arm && bySeed.has(r.config.seed)).map((r) => [bySeed.get(r.config.seed)!, r]);
}

/**
 * Does sparsity help or hurt each detector? Per task, each sparse arm's AUROC minus the dense arm's of the same seed
 * (same data split and seed; MOON arms against dense + MOON where it ran, else against dense).
 */
export function sparsityEffectTable(results: readonly RunResult[]): string {
  const rows: string[][] = [];
  for (const task of tasksOf(results)) {
    const names = arms(task).map((a) => a.arm);
    for (const arm of names.filter((a) => !a.startsWith('dense'))) {
      const against = arm.includes('MOON') && names.includes('dense + MOON') ? 'dense + MOON' : 'dense';
      const pairs = pairsBySeed(task, arm, against);
      if (pairs.length === 0) continue;
      const detectors = detectorsOf(pairs.map((p) => p[1])).filter((d) => pairs.every(([a, b]) => averaged(a, d, 'auroc') !== undefined && averaged(b, d, 'auroc') !== undefined));
      rows.push([`${task.dataset} ${task.model}`, `${arm} − ${against}`, String(pairs.length), detectors.map((d) => `${d}: ${intervalText(pairs.map(([a, b]) => averaged(b, d, 'auroc')! - averaged(a, d, 'auroc')!))}`).join('<br>')]);
    }
  }
  return rows.length ? markdownTable(['task', 'arms', 'seed pairs', 'Δ AUROC (points) per detector, paired by seed'], rows) : '(no sparse arm with a dense arm of the same seeds)';
}

/** The detector with the highest mean AUROC over the runs (the first on ties). */
export function bestDetector(runs: readonly RunResult[]): { name: string; auroc: number } | undefined {
  let best: { name: string; auroc: number } | undefined;
  for (const d of detectorsOf(runs)) {
    const values = runs.map((r) => averaged(r, d, 'auroc'));
    if (values.some((v) => v === undefined)) continue;
    const mean = meanStd(values as number[]).mean;
    if (best === undefined || mean > best.auroc) best = { name: d, auroc: mean };
  }
  return best;
}

/**
 * MOON + its best detector against dense + its best detector, per task: each arm's best by mean AUROC over seeds, the
 * difference paired by seed. (Choosing the best on the same runs flatters both arms alike.)
 */
export function moonBestTable(results: readonly RunResult[]): string {
  const rows: string[][] = [];
  for (const task of tasksOf(results)) {
    const names = arms(task).map((a) => a.arm);
    for (const arm of names.filter((a) => a.includes('MOON') && !a.startsWith('dense'))) {
      const pairs = pairsBySeed(task, arm, 'dense');
      if (pairs.length === 0) continue;
      const denseBest = bestDetector(pairs.map((p) => p[0]));
      const moonBest = bestDetector(pairs.map((p) => p[1]));
      if (!denseBest || !moonBest) continue;
      const diff = pairs.map(([a, b]) => averaged(b, moonBest.name, 'auroc')! - averaged(a, denseBest.name, 'auroc')!);
      rows.push([`${task.dataset} ${task.model}`, `${arm}: ${moonBest.name} ${points(moonBest.auroc)}`, `dense: ${denseBest.name} ${points(denseBest.auroc)}`, String(pairs.length), intervalText(diff)]);
    }
  }
  return rows.length ? markdownTable(['task', 'MOON arm: best detector, AUROC', 'dense: best detector, AUROC', 'seed pairs', 'Δ AUROC (points), paired'], rows) : '(no MOON arm with a dense arm of the same seeds)';
}
