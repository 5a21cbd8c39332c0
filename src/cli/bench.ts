import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './cli-error';
import { RUN_DEFAULTS, type RunConfig } from './run-config';
import { normalizeConfig, runId } from './run-id';
import type { RunResult } from './train';

/** A benchmark matrix: `runs` entries over `defaults`; every array value (in either) expands into every combination. */
export interface BenchConfig {
  defaults?: { [K in keyof RunConfig]?: RunConfig[K] | RunConfig[K][] };
  runs: Array<{ [K in keyof RunConfig]?: RunConfig[K] | RunConfig[K][] }>;
}

/** Every run of a matrix, in order, each id once. */
export function expandBench(config: BenchConfig): RunConfig[] {
  if (!config || !Array.isArray(config.runs) || config.runs.length === 0) {
    throw new CliError('the bench config needs a non-empty "runs" array, e.g. { "runs": [{ "dataset": "mnist6", "moon": [false, true], "seed": [1, 2, 3] }] }', 2);
  }
  const all: RunConfig[] = [];
  for (const entry of config.runs) {
    let combos: Record<string, unknown>[] = [{ ...RUN_DEFAULTS }];
    for (const [key, value] of Object.entries({ ...config.defaults, ...entry })) {
      const values = Array.isArray(value) ? value : [value];
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    all.push(...(combos as unknown as RunConfig[]));
  }
  const seen = new Set<string>();
  return all.filter((c) => !seen.has(runId(c)) && seen.add(runId(c)));
}

/** The command-line flags of `tfjs-moon train` for a run. */
export function trainFlags(c: RunConfig): string[] {
  const flags = [
    '--dataset', c.dataset, '--model', c.model, '--method', c.method, '--sparsity', String(c.sparsity), '--moon', c.moon ? 'on' : 'off',
    '--epochs', String(c.epochs), '--seed', String(c.seed), '--batch-size', String(c.batchSize), '--lr', String(c.learningRate), '--preset', c.preset,
    '--optimizer', c.optimizer, '--weight-decay', String(c.weightDecay), '--shuffle', c.shuffle, '--loss', c.lossVariant, '--kernels', c.kernels, '--head', c.head,
  ];
  if (c.trainLimit !== undefined) flags.push('--train-limit', String(c.trainLimit));
  if (c.testLimit !== undefined) flags.push('--test-limit', String(c.testLimit));
  if (c.dataDir !== undefined) flags.push('--data-dir', c.dataDir);
  if (c.kit !== undefined) flags.push('--kit', JSON.stringify(c.kit));
  if (c.variant !== undefined) flags.push('--variant', c.variant);
  if (c.fromModel !== undefined) flags.push('--from-model', c.fromModel);
  if (c.saveModel !== undefined) flags.push('--save-model', c.saveModel);
  return flags;
}

/**
 * Ids of the runs already recorded in `results.jsonl`, recomputed from their configs (so a result recorded before a
 * config field existed, or under an older id scheme, is not taken for a run of today's defaults).
 */
export function finishedRuns(out: string): Set<string> {
  const file = path.join(out, 'results.jsonl');
  if (!fs.existsSync(file)) return new Set();
  return new Set(
    fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim()).map((line) => runId(normalizeConfig((JSON.parse(line) as RunResult).config))),
  );
}

/** Runs one configuration in a child process (the same entry point, `train --quiet`); resolves with its result. */
function runChild(config: RunConfig, out: string, backend: string): Promise<RunResult> {
  const dir = path.join(out, 'runs', runId(config));
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], ['train', ...trainFlags(config), '--backend', backend, '--out', dir, '--quiet'], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResult);
      else reject(new CliError(`run ${runId(config)} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/**
 * `tfjs-moon bench`: runs every configuration of the matrix not yet in `out/results.jsonl`, `jobs` at a time in
 * separate processes (each TF.js process uses one core), appending one line per finished run.
 */
export async function benchCommand(configPath: string, out: string, jobs: number, fresh: boolean, backend: string): Promise<void> {
  let config: BenchConfig;
  try {
    config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as BenchConfig;
  } catch (error) {
    throw new CliError(`cannot read the bench config ${configPath}: ${(error as Error).message}`, 2);
  }
  const runs = expandBench(config);
  fs.mkdirSync(out, { recursive: true });
  if (fresh) fs.rmSync(path.join(out, 'results.jsonl'), { force: true });
  const done = finishedRuns(out);
  const todo = runs.filter((r) => !done.has(runId(r)));
  process.stderr.write(`tfjs-moon bench: ${runs.length} runs, ${runs.length - todo.length} already in ${path.join(out, 'results.jsonl')}, ${todo.length} to do, ${jobs} at a time\n`);
  let next = 0;
  let finished = 0;
  const failures: string[] = [];
  const started = Date.now();
  const worker = async () => {
    while (next < todo.length) {
      const config = todo[next++];
      let result: RunResult;
      try {
        result = await runChild(config, out, backend);
      } catch (error) {
        // One failed run must not stop the others: report it, go on, and fail at the end.
        failures.push((error as Error).message);
        process.stderr.write(`  FAILED ${(error as Error).message}\n`);
        continue;
      }
      const { samples: _samples, ...summary } = result;
      void _samples;
      fs.appendFileSync(path.join(out, 'results.jsonl'), `${JSON.stringify(summary)}\n`);
      finished++;
      const firstOod = Object.entries(result.metrics.ood)[0];
      process.stderr.write(
        `  [${finished}/${todo.length}] ${result.id}: accuracy ${(100 * result.metrics.accuracy).toFixed(2)}%` +
          (firstOod ? `, ${firstOod[0]} AUROC ${(100 * firstOod[1].auroc).toFixed(2)}%` : '') +
          ` (${result.seconds.toFixed(0)} s; ${((Date.now() - started) / 60000).toFixed(1)} min elapsed)\n`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  if (failures.length > 0) {
    throw new CliError(`${failures.length} of ${todo.length} runs failed (the others are in ${path.join(out, 'results.jsonl')}; run bench again to retry them): ${failures.join(' || ')}`);
  }
}
