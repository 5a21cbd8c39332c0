/**
 * The fine-tuning recipe (docs/guide.md, "From a trained dense model"), measured against training sparse from
 * scratch, per seed, in one process on one backend:
 * - dense: LeNet-300-100 trained densely without MOON (K outputs), saved;
 * - fine-tuned: that model, an unknown head added, pruned gradually to 90% (polynomial, first half of the run) with
 *   MOON on, static masks after pruning, learning rate 0.01;
 * - scratch: RigL at 90% with MOON from a fresh model (the README's demo run).
 * Reports accuracy, ECE, AUROC and FPR@95 for each OOD set, and the seconds of training, as mean ± std over seeds.
 *
 *   npm run bench:recipe                      # 3 seeds, 10 epochs each run, mnist6
 *   npm run bench:recipe -- --seeds 5 --epochs 10
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../src/cli/backend';
import { meanStd } from '../src/cli/report';
import { RUN_DEFAULTS, trainRun, type RunConfig, type RunResult } from '../src/cli/train';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

async function main(): Promise<void> {
  const seeds = Number(option('seeds', '3'));
  const epochs = Number(option('epochs', '10'));
  const backend = await useBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-moon-recipe-'));
  const base = { ...RUN_DEFAULTS, dataset: 'mnist6', epochs } as RunConfig;
  const arms: Record<string, RunResult[]> = { 'dense (no MOON)': [], 'fine-tuned: dense → 90% with MOON': [], 'scratch: RigL 90% + MOON': [] };
  const totalSeconds: Record<string, number[]> = { 'fine-tuned: dense → 90% with MOON': [], 'scratch: RigL 90% + MOON': [] };
  for (let seed = 1; seed <= seeds; seed++) {
    const saved = path.join(dir, `dense-${seed}`);
    const dense = await trainRun({ ...base, seed, method: 'dense', sparsity: 0, moon: false, saveModel: saved }, backend);
    const tuned = await trainRun({ ...base, seed, method: 'static', moon: true, learningRate: 0.01, fromModel: saved, kit: { prune: { schedule: 'polynomial' } } }, backend);
    const scratch = await trainRun({ ...base, seed, method: 'rigl', moon: true }, backend);
    arms['dense (no MOON)'].push(dense);
    arms['fine-tuned: dense → 90% with MOON'].push(tuned);
    arms['scratch: RigL 90% + MOON'].push(scratch);
    totalSeconds['fine-tuned: dense → 90% with MOON'].push(dense.seconds + tuned.seconds);
    totalSeconds['scratch: RigL 90% + MOON'].push(scratch.seconds);
    process.stderr.write(`seed ${seed}: dense ${(100 * dense.metrics.accuracy).toFixed(2)}%, fine-tuned ${(100 * tuned.metrics.accuracy).toFixed(2)}%, scratch ${(100 * scratch.metrics.accuracy).toFixed(2)}%\n`);
  }
  const pm = (values: number[], scale = 100) => {
    const { mean, std } = meanStd(values.map((v) => v * scale));
    return `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
  };
  const oodNames = Object.keys(arms['dense (no MOON)'][0].metrics.ood);
  console.log(`mnist6, LeNet-300-100, ${epochs} epochs per run, seeds 1–${seeds}, backend ${backend}; ${os.cpus().length} × ${os.cpus()[0].model}; ${new Date().toISOString().slice(0, 10)}`);
  console.log(`| arm | density | accuracy % | ECE % | ${oodNames.map((n) => `${n} AUROC % / FPR@95 %`).join(' | ')} | training s (dense + fine-tune) |`);
  console.log(`| --- | --- | --- | --- | ${oodNames.map(() => '---').join(' | ')} | --- |`);
  for (const [arm, runs] of Object.entries(arms)) {
    const seconds = totalSeconds[arm] ?? runs.map((r) => r.seconds);
    console.log(
      `| ${arm} | ${runs[0].density.global.toFixed(3)} | ${pm(runs.map((r) => r.metrics.accuracy))} | ${pm(runs.map((r) => r.metrics.ece))} | ` +
        `${oodNames.map((n) => `${pm(runs.map((r) => r.metrics.ood[n].auroc))} / ${pm(runs.map((r) => r.metrics.ood[n].fpr95))}`).join(' | ')} | ${pm(seconds, 1)} |`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
