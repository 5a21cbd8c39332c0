/**
 * Speed of the OOD metrics: oodMetrics (AUROC, AUPR-In, AUPR-Out, FPR@95) and auroc alone on N scores per side
 * (Gaussian, ID shifted by 1, float32-rounded so ties occur), medians of 5 runs after a warm-up.
 *
 *   npm run bench:metrics                # N = 1,000,000
 *   npm run bench:metrics -- --n 100000
 */
import * as os from 'os';
import { auroc, oodMetrics, SeededRandom } from '../src';

const i = process.argv.indexOf('--n');
const n = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;

function gaussian(count: number, mean: number, random: SeededRandom): Float32Array {
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const u = 1 - random.next();
    out[k] = mean + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  }
  return out;
}

function time(fn: () => unknown, runs = 5): { median: number; runs: number[]; value: unknown } {
  let value = fn(); // warm-up
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    value = fn();
    seconds.push((performance.now() - t) / 1000);
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  return { median: +sorted[Math.floor(runs / 2)].toFixed(3), runs: seconds.map((s) => +s.toFixed(3)), value };
}

const random = new SeededRandom(1);
const id = gaussian(n, 1, random);
const ood = gaussian(n, 0, random);
const all = time(() => oodMetrics(id, ood));
const one = time(() => auroc(id, ood));
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      scoresPerSide: n,
      seed: 1,
      oodMetricsSeconds: all.runs,
      oodMetricsMedian: all.median,
      aurocSeconds: one.runs,
      aurocMedian: one.median,
      result: all.value,
    },
    null,
    2,
  ),
);
