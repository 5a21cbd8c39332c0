import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandBench, finishedRuns } from '../../src/cli/bench';
import { CliError } from '../../src/cli/cli-error';
import { cli } from '../helpers/cli';
import { BENCH_LOCK } from '../../src/cli/out-dir';
import { loadRuns, moonEffectTable, pairedInterval, summaryTables } from '../../src/cli/report';
import { RUN_DEFAULTS, type RunConfig } from '../../src/cli/run-config';
import { runId } from '../../src/cli/run-id';
import type { RunResult } from '../../src/cli/train';

// Issue #21 §6: the command line finds bad output folders before training, locks a bench folder, survives a torn
// results line, takes its trainers down with it, rejects configs it does not understand, and reports honest intervals.

const backend = process.env.TFJS_TEST_BACKEND ?? 'cpu';
const repo = path.join(__dirname, '../..');


const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const config = (extra: Partial<RunConfig> = {}): RunConfig => ({ ...RUN_DEFAULTS, dataset: 'mnist6', epochs: 2, trainLimit: 60, testLimit: 30, ...extra }) as RunConfig;

/** A recorded result line, as bench appends it (only what readers use). */
function resultLine(c: RunConfig, auroc = 0.9): string {
  const ood = { 'mnist-6-9': { auroc, auprIn: 0.9, auprOut: 0.9, fpr95: 0.3 } };
  return JSON.stringify({ id: runId(c), config: c, metrics: { accuracy: 0.9, accuracyKnown: 0.9, ece: 0.05, ood }, density: { global: 0.1, layers: [] }, environment: { backend: 'cpu', tfjs: '4', node: '20', machine: 'm', date: 'd' } });
}

describe('output folders are checked before training', () => {
  it('an --out that cannot be created: one line, exit 2, nothing trained', async () => {
    const dir = tmp('moon-out-');
    fs.writeFileSync(path.join(dir, 'a-file'), 'x');
    const { code, stderr } = await cli(['train', '--epochs', '2', '--train-limit', '60', '--backend', backend, '--out', path.join(dir, 'a-file', 'out')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tfjs-moon: --out .*a-file\/out cannot be written \((ENOTDIR|EEXIST)\): choose a folder you can write to\n$/);
    expect(stderr).not.toMatch(/tfjs-moon train:/); // refused before the run started
  });

  it('a --save-model folder holding other files: exit 2 before training, the files untouched', async () => {
    const dir = tmp('moon-save-');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const { code, stderr } = await cli(['train', '--epochs', '2', '--train-limit', '60', '--backend', backend, '--out', tmp('moon-out-'), '--save-model', dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--save-model .* holds "notes\.txt", which a saved model does not/);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('a --variant that is not a plain name is refused (it names the run folder)', async () => {
    const { code, stderr } = await cli(['train', '--epochs', '2', '--variant', '../escape', '--backend', backend, '--out', tmp('moon-out-')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--variant "\.\.\/escape" is not a name/);
  });
});

describe('bench configs', () => {
  it('rejects unknown keys, at the top and in defaults and runs, naming them', () => {
    const bad = (c: object) => () => expandBench(c as never);
    expect(bad({ runs: [{ seed: 1 }], default: {} })).toThrow(/unknown keys "default"/);
    expect(bad({ defaults: { epoch: 3 }, runs: [{ seed: 1 }] })).toThrow(/"epoch" in defaults/);
    expect(bad({ runs: [{ seed: 1 }, { seeds: [1, 2] }] })).toThrow(/"seeds" in runs\[1\]/);
    try {
      expandBench({ runs: [{ sed: 1 }] } as never);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
    }
  });

  it('rejects a variant that would leave --out', () => {
    for (const variant of ['../x', 'a/b', '..', 'a\\b', '', 'x'.repeat(65)]) {
      expect(() => expandBench({ runs: [{ variant }] })).toThrow(/variant .* is not a name/);
    }
    expect(expandBench({ runs: [{ variant: 'alpha0.1_v2' }] })).toHaveLength(1);
  });
});

describe('the bench lock', () => {
  const benchConfig = (dir: string) => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ defaults: { dataset: 'mnist6', epochs: 2, trainLimit: 60, testLimit: 30 }, runs: [{ seed: 1 }] }));
    return file;
  };

  it('a second bench on a folder a live process holds exits 2 naming it; the lock stays', async () => {
    const out = tmp('moon-lock-');
    const lock = JSON.stringify({ pid: process.pid, host: os.hostname(), started: '2026-12-02T10:00:00.000Z' });
    fs.writeFileSync(path.join(out, BENCH_LOCK), lock);
    const { code, stderr } = await cli(['bench', benchConfig(out), '--out', out, '--no-report']);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`another bench \\(pid ${process.pid} on .*, started 2026-12-02T10:00:00.000Z\\) is writing`));
    expect(fs.readFileSync(path.join(out, BENCH_LOCK), 'utf8')).toBe(lock);
    expect(fs.existsSync(path.join(out, 'results.jsonl'))).toBe(false);
  });

  it('a lock left by a process that no longer runs is taken over with a warning, and released at the end', async () => {
    const out = tmp('moon-lock-');
    fs.writeFileSync(path.join(out, BENCH_LOCK), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: 'then' }));
    fs.writeFileSync(path.join(out, 'results.jsonl'), `${resultLine(config())}\n`); // its one run is done: nothing trains
    const { code, stderr } = await cli(['bench', benchConfig(out), '--out', out, '--no-report']);
    expect(stderr).toMatch(/taking over the lock .* left by pid 4206649, which no longer runs/);
    expect(stderr).toMatch(/1 runs, 1 already in .*, 0 to do/);
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(out, BENCH_LOCK))).toBe(false);
  });
});

describe('a torn last line of results.jsonl', () => {
  const torn = () => {
    const out = tmp('moon-torn-');
    const whole = resultLine(config({ seed: 1 }));
    fs.writeFileSync(path.join(out, 'results.jsonl'), `${whole}\n${resultLine(config({ seed: 2 })).slice(0, 80)}`);
    return { out, whole };
  };

  it('bench warns, cuts it off, and counts its run as not done', () => {
    const { out, whole } = torn();
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect([...finishedRuns(out)]).toEqual([runId(config({ seed: 1 }))]);
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(/last line of .*results\.jsonl is incomplete .* cut off, and its run will be run again/);
    } finally {
      write.mockRestore();
    }
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(`${whole}\n`); // the next append starts a line
  });

  it('report skips it with a warning and leaves the file alone; a damaged middle line is a usage error naming it', () => {
    const { out } = torn();
    const before = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(loadRuns(out).map((r) => r.config.seed)).toEqual([1]);
    } finally {
      write.mockRestore();
    }
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(before);
    fs.writeFileSync(path.join(out, 'results.jsonl'), `${resultLine(config())}\n{oops\n${resultLine(config({ seed: 3 }))}\n`);
    expect(() => loadRuns(out)).toThrow(/line 2 of .*results\.jsonl is not JSON/);
  });
});

describe('report on a folder of train runs (#22 row 16)', () => {
  it('reads each sub-folder holding a results.json, pairs MOON with its base, and ignores other entries', () => {
    const dir = tmp('moon-trains-');
    const runs: Array<[string, RunConfig]> = [['base-1', config({ seed: 1, moon: false })], ['moon-1', config({ seed: 1, moon: true })], ['base-2', config({ seed: 2, moon: false })], ['moon-2', config({ seed: 2, moon: true })]];
    for (const [name, c] of runs) {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'results.json'), resultLine(c, c.moon ? 0.9 : 0.85));
    }
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const loaded = loadRuns(dir);
    expect(loaded.map((r) => [r.config.seed, r.config.moon])).toEqual([[1, false], [2, false], [1, true], [2, true]]);
    expect(moonEffectTable(loaded)).toMatch(/\| mnist6 \| .* \| 2 \| .*mnist-6-9: 5\.00 \[5\.00, 5\.00\]/); // two seed pairs
    expect(() => loadRuns(tmp('moon-none-'))).toThrow(/no results in .*: expected results\.jsonl .* or folders of train runs/);
  });
});

describe('report statistics', () => {
  it("uses Student's t for any number of pairs: 31 pairs take t(0.975, 30) = 2.0423, not 1.96", () => {
    const d = Array.from({ length: 31 }, (_, i) => (i % 2 ? 1 : -1) * (1 + i / 31));
    const ci = pairedInterval(d)!;
    const mean = d.reduce((s, v) => s + v, 0) / 31;
    const s = Math.sqrt(d.reduce((acc, v) => acc + (v - mean) ** 2, 0) / 30);
    expect((ci.high - ci.mean) / (s / Math.sqrt(31))).toBeCloseTo(2.04227, 4);
    expect((pairedInterval(Array.from({ length: 1001 }, (_, i) => i % 7))!.high - 3) / (2 / Math.sqrt(1001))).toBeGreaterThan(1.96); // t > z
  });

  const moon = (seed: number, extra: Partial<RunConfig> = {}) => config({ seed, moon: true, ...extra });
  const base = (seed: number) => config({ seed, moon: false });

  it('no significance star for a zero-width interval (identical differences)', () => {
    const results = [1, 2, 3].flatMap((seed) => [JSON.parse(resultLine(base(seed), 0.8)), JSON.parse(resultLine(moon(seed), 0.85))]) as RunResult[];
    const table = moonEffectTable(results);
    expect(table).toMatch(/mnist-6-9: 5\.00 \[5\.00, 5\.00\] \//); // Δ AUROC is 5 points for every seed
    expect(table).not.toContain('✱');
  });

  it("shows – where a base run lacks an OOD set, instead of failing the whole report", () => {
    const results = [1, 2].flatMap((seed) => {
      const b = JSON.parse(resultLine(base(seed))) as RunResult;
      b.metrics.ood = {}; // recorded without the OOD set
      return [b, JSON.parse(resultLine(moon(seed))) as RunResult];
    });
    expect(moonEffectTable(results)).toContain('mnist-6-9: – / –');
    expect(summaryTables(results)).toMatch(/\| – \| – \| – \| – \|/);
  });
});

// Real processes: a bench's trainer ends with the bench (cpu project only: it starts node processes).
(backend === 'cpu' ? describe : describe.skip)('a bench takes its trainers with it', () => {
  /** The pids of the direct children of `pid` (Linux /proc). */
  const childrenOf = (pid: number): number[] =>
    fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).flatMap((n) => {
      try {
        const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(n)] : [];
      } catch {
        return [];
      }
    });
  const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const until = async (what: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end && !what(); ) await new Promise((r) => setTimeout(r, 100));
    return what();
  };

  it.each(['SIGTERM', 'SIGKILL'] as const)('%s to the bench ends its running trainer', async (signal) => {
    const out = tmp('moon-orphan-');
    const file = path.join(out, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ runs: [{ dataset: 'mnist6', epochs: 200, trainLimit: 600, testLimit: 30 }] }));
    const bench = spawn(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'bench', file, '--out', out, '--jobs', '1', '--backend', 'cpu', '--no-report'], { cwd: repo, stdio: 'ignore' });
    expect(await until(() => childrenOf(bench.pid!).length > 0, 30000)).toBe(true);
    const [trainer] = childrenOf(bench.pid!);
    await new Promise((r) => setTimeout(r, 1500)); // the trainer is past its start-up
    bench.kill(signal);
    expect(await until(() => !alive(trainer), 15000)).toBe(true);
  }, 60000);
});
