/**
 * The adapted tfjs-examples programs (examples/tfjs-examples/) at 90% sparsity from scratch against their own dense
 * training, on a fixed budget, per seed: test accuracy and the model's density. One line of JSON per run goes to
 * `--out` (default docs/results/examples/results.jsonl, appended); `--report` prints the table of a results file.
 *
 *   npm run bench:examples -- --seeds 1,2,3 --shard 0/2 &  npm run bench:examples -- --seeds 1,2,3 --shard 1/2
 *   npm run bench:examples -- --report
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/cli/backend';
import { meanStd } from '../src/cli/report';
import { digitSplits } from '../examples/tfjs-examples/digits';
import { trainMnistNode, type Method } from '../examples/tfjs-examples/mnist-node';
import { pretrain, transfer, type TransferMethod } from '../examples/tfjs-examples/mnist-transfer-cnn';
import { trainSentiment } from '../examples/tfjs-examples/sentiment';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** The fixed budgets: digits per class for training (200 per class for testing), epochs, batch 64. */
const BUDGET = { trainPerDigit: 800, testPerDigit: 200, cnnEpochs: 3, sentimentEpochs: 4, transferEpochs: 3 };

interface Line {
  example: string;
  method: string;
  seed: number;
  accuracy: number;
  density: number;
  steps: number;
  seconds: number;
  backend: string;
  date: string;
}

/** One unit of work: an example at one seed, all its methods in a row (so they share the machine's state). */
type Job = { example: string; seed: number; cost: number; run: (backend: string) => Promise<Line[]> };

function jobs(seeds: number[]): Job[] {
  const stamp = (example: string, method: string, seed: number, backend: string, started: number, r: { accuracy: number; density: number; steps: number }): Line => ({
    example, method, seed, ...r, seconds: (Date.now() - started) / 1000, backend, date: new Date().toISOString().slice(0, 10),
  });
  const list: Job[] = [];
  for (const seed of seeds) {
    list.push({
      example: 'mnist-node CNN', seed, cost: 390,
      run: async (backend) => {
        const { train, test } = digitSplits(BUDGET.trainPerDigit, BUDGET.testPerDigit);
        const lines: Line[] = [];
        for (const method of ['dense', 'rigl', 'moon'] as Method[]) {
          const started = Date.now();
          lines.push(stamp('mnist-node CNN', method === 'moon' ? 'rigl + MOON' : method, seed, backend, started, await trainMnistNode({ method, seed, epochs: BUDGET.cnnEpochs, train, test })));
        }
        tf.dispose([train.images, test.images]);
        return lines;
      },
    });
    for (const kind of ['cnn', 'lstm'] as const) {
      list.push({
        example: `sentiment ${kind}`, seed, cost: 200,
        run: async (backend) => {
          const { train, test } = digitSplits(BUDGET.trainPerDigit, BUDGET.testPerDigit);
          const lines: Line[] = [];
          for (const method of ['dense', 'rigl'] as const) {
            const started = Date.now();
            lines.push(stamp(`sentiment ${kind}`, method, seed, backend, started, await trainSentiment({ kind, method, seed, epochs: BUDGET.sentimentEpochs, train, test })));
          }
          tf.dispose([train.images, test.images]);
          return lines;
        },
      });
    }
    list.push({
      example: 'mnist-transfer-cnn', seed, cost: 100,
      run: async (backend) => {
        const low = digitSplits(BUDGET.trainPerDigit, BUDGET.testPerDigit, [0, 1, 2, 3, 4]);
        const high = digitSplits(BUDGET.trainPerDigit, BUDGET.testPerDigit, [5, 6, 7, 8, 9]);
        const base = await pretrain(low.train, seed, BUDGET.transferEpochs);
        const lines: Line[] = [];
        for (const method of ['dense', 'rigl', 'frozen-masked'] as TransferMethod[]) {
          const started = Date.now();
          const r = await transfer({ base, method, seed, epochs: BUDGET.transferEpochs, train: high.train, test: high.test });
          lines.push(stamp('mnist-transfer-cnn', method === 'frozen-masked' ? 'rigl, frozen layers masked' : method, seed, backend, started, r));
        }
        base.dispose();
        tf.dispose([low.train.images, low.test.images, high.train.images, high.test.images]);
        return lines;
      },
    });
  }
  return list;
}

/** The table: per example and method, accuracy mean ± std over seeds, the paired difference to dense, density. */
function report(file: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
  const examples = [...new Set(lines.map((l) => l.example))];
  console.log('| example | method | steps | seeds | test accuracy % (mean ± std) | minus dense, paired (points: mean [min, max]) | model density |');
  console.log('|---|---|---|---|---|---|---|');
  for (const example of examples) {
    const of = lines.filter((l) => l.example === example);
    const dense = new Map(of.filter((l) => l.method === 'dense').map((l) => [l.seed, l.accuracy]));
    for (const method of [...new Set(of.map((l) => l.method))]) {
      const runs = of.filter((l) => l.method === method).sort((a, b) => a.seed - b.seed);
      const { mean, std } = meanStd(runs.map((r) => 100 * r.accuracy));
      const diffs = runs.filter((r) => dense.has(r.seed)).map((r) => 100 * (r.accuracy - dense.get(r.seed)!));
      const diff = method === 'dense' || diffs.length === 0 ? '–' : `${meanStd(diffs).mean.toFixed(2)} [${Math.min(...diffs).toFixed(2)}, ${Math.max(...diffs).toFixed(2)}]`;
      console.log(`| ${example} | ${method} | ${runs[0].steps} | ${runs.map((r) => r.seed).join(', ')} | ${mean.toFixed(2)} ± ${std.toFixed(2)} | ${diff} | ${runs[0].density.toFixed(3)} |`);
    }
  }
  const first = lines[0];
  console.log(`\n${first.backend}, ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.versions.node}, tfjs ${tf.version.tfjs}, ${first.date}`);
}

/** The jobs of shard `shard` of `shards`: the costliest first, each to the least loaded shard (estimated seconds on wasm). */
function shardOf(all: Job[], shard: number, shards: number): Job[] {
  const load = new Array(shards).fill(0);
  const assigned: Job[][] = load.map(() => []);
  for (const job of [...all].sort((a, b) => b.cost - a.cost)) {
    const target = load.indexOf(Math.min(...load));
    load[target] += job.cost;
    assigned[target].push(job);
  }
  return assigned[shard];
}

async function main(): Promise<void> {
  const out = option('out', path.join(__dirname, '..', 'docs', 'results', 'examples', 'results.jsonl'));
  if (process.argv.includes('--report')) return report(out);
  const seeds = option('seeds', '1,2,3').split(',').map(Number);
  const [shard, shards] = option('shard', '0/1').split('/').map(Number);
  const only = option('only', '');
  const backend = await useBackend((option('backend', 'auto') as 'auto'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const mine = shardOf(jobs(seeds).filter((j) => only === '' || j.example.startsWith(only)), shard, shards);
  for (const job of mine) {
    const lines = await job.run(backend);
    fs.appendFileSync(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    for (const l of lines) process.stderr.write(`${l.example} ${l.method} seed ${l.seed}: ${(100 * l.accuracy).toFixed(2)}% in ${l.seconds.toFixed(0)} s\n`);
  }
}

void main();
