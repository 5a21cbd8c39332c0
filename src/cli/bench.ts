import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CliError } from './cli-error';
import { acquireBenchLock, checkWritableDir } from './out-dir';
import { BENCH_PID_VARIABLE } from './parent-watch';
import { readResults, RESULTS_FILE } from './results-file';
import { detectorNames } from './detector-evaluation';
import { isVariantName, RUN_CONFIG_KEYS, RUN_DEFAULTS, type RunConfig } from './run-config';
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
  checkBenchKeys(config);
  const all: RunConfig[] = [];
  for (const entry of config.runs) {
    let combos: Record<string, unknown>[] = [{ ...RUN_DEFAULTS }];
    for (const [key, value] of Object.entries({ ...config.defaults, ...entry })) {
      const values = Array.isArray(value) ? value : [value];
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    all.push(...(combos as unknown as RunConfig[]));
  }
  for (const c of all) {
    if (c.variant !== undefined && (typeof c.variant !== 'string' || !isVariantName(c.variant))) {
      throw new CliError(`the bench config's variant ${JSON.stringify(c.variant)} is not a name: use letters, digits and . _ = + - (it names the run's folder)`, 2);
    }
    if (c.detectors !== undefined) {
      if (typeof c.detectors !== 'string') throw new CliError(`the bench config's detectors must be 'all' or names separated by commas ("knn,vim"), got ${JSON.stringify(c.detectors)}`, 2);
      detectorNames(c.detectors, true); // an unknown name fails before any training
    }
  }
  const seen = new Set<string>();
  return all.filter((c) => !seen.has(runId(c)) && seen.add(runId(c)));
}

/** Rejects keys a bench config does not know (a typo would otherwise be ignored and the run trained without it). */
function checkBenchKeys(config: BenchConfig): void {
  const unknownTop = Object.keys(config).filter((k) => k !== 'defaults' && k !== 'runs');
  const where: Array<[string, object | undefined]> = [['defaults', config.defaults], ...config.runs.map((r, i): [string, object] => [`runs[${i}]`, r])];
  const unknown = [
    ...unknownTop.map((k) => `"${k}"`),
    ...where.flatMap(([name, entry]) => (entry === undefined ? [] : Object.keys(entry).filter((k) => !RUN_CONFIG_KEYS.includes(k as keyof RunConfig)).map((k) => `"${k}" in ${name}`))),
  ];
  if (unknown.length > 0) {
    throw new CliError(`the bench config has unknown keys ${unknown.join(', ')}: a config has "defaults" and "runs", whose entries may name ${RUN_CONFIG_KEYS.join(', ')}`, 2);
  }
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
  if (c.detectors !== undefined) flags.push('--detectors', c.detectors);
  return flags;
}

/**
 * Ids of the runs already recorded in `results.jsonl`, recomputed from their configs (so a result recorded before a
 * config field existed, or under an older id scheme, is not taken for a run of today's defaults). A torn last line
 * is cut off (see {@link readResults}): its run is not done.
 */
export function finishedRuns(out: string): Set<string> {
  return new Set(readResults(out, true).map((r) => runId(normalizeConfig(r.config))));
}

/** The child processes of this bench, ended with it. */
const children = new Set<ChildProcess>();

/** On SIGINT, SIGTERM or SIGHUP, ends the running trainers, then exits as the signal would (128 + its number). */
function endChildrenOnSignal(): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (signal: NodeJS.Signals) => {
    for (const child of children) child.kill('SIGTERM');
    process.stderr.write(`tfjs-moon bench: ${signal}: stopped ${children.size} running trainer(s); run bench again to resume\n`);
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  };
  for (const s of signals) process.on(s, handler);
  return () => signals.forEach((s) => process.off(s, handler));
}

/** Runs one configuration in a child process (the same entry point, `train --quiet`); resolves with its result. */
function runChild(config: RunConfig, out: string, backend: string): Promise<RunResult> {
  const dir = path.join(out, 'runs', runId(config));
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], ['train', ...trainFlags(config), '--backend', backend, '--out', dir, '--quiet'], {
      execArgv: process.execArgv,
      env: { ...process.env, [BENCH_PID_VARIABLE]: String(process.pid) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      children.delete(child);
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
  checkWritableDir(out, '--out');
  const release = acquireBenchLock(out);
  const stopListening = endChildrenOnSignal();
  try {
    await runAll(runs, out, jobs, fresh, backend);
  } finally {
    stopListening();
    release();
  }
}

/** Runs what `results.jsonl` lacks, `jobs` at a time; appends a line per finished run; fails at the end if any failed. */
async function runAll(runs: readonly RunConfig[], out: string, jobs: number, fresh: boolean, backend: string): Promise<void> {
  if (fresh) fs.rmSync(path.join(out, RESULTS_FILE), { force: true });
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
      fs.appendFileSync(path.join(out, RESULTS_FILE), `${JSON.stringify(summary)}\n`);
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
