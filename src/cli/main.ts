#!/usr/bin/env node
/**
 * The tfjs-moon command line: `train` one configuration, `bench` a matrix of them in parallel processes, `report`
 * the results as Markdown tables and SVG figures. Uses only the library's public API.
 */
import type * as Commander from 'commander';
import { MoonError, RECOMMENDED_DETECTOR, type KernelChoice, type LossVariant } from 'tfjs-moon';
import { BACKEND_CHOICES, type BackendChoice } from './backend';
import { benchCommand } from './bench';
import { CliError } from './cli-error';
import { MODEL_NAMES, type ModelName } from './models';
import { requireOptional } from './optional';
import { checkModelFolder, checkWritableDir } from './out-dir';
import { detectorNames } from './detector-evaluation';
import { isVariantName } from './run-config';
import { reportCommand } from './report';
import { HEADS, METHODS, OPTIMIZERS, RUN_DEFAULTS, SHUFFLE_MODES, type HeadKind, type Method, type OptimizerName, type RunConfig, type ShuffleMode } from './train';
import { trainCommand } from './train-command';

/** commander, loaded when the program is built (inside main's error handling: it is an optional peer). */
const commander = (): typeof Commander => requireOptional<typeof Commander>('commander');
/** An argument error commander prints as one line. */
const invalid = (message: string): Error => new (commander().InvalidArgumentError)(message);

const integer = (min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw invalid(`expected an integer ≥ ${min}`);
  return n;
};
const fraction = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw invalid('expected a number in [0, 1)');
  return n;
};
const kitJson = (value: string): RunConfig['kit'] => {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    const allowed = ['tuner', 'voter', 'lr', 'mask', 'randomMaskDpnum', 'prune'];
    const unknown = Object.keys(parsed).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) throw new Error(`unknown keys ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
    return parsed as RunConfig['kit'];
  } catch (error) {
    throw invalid(`expected a JSON object of createMoon options: ${(error as Error).message}`);
  }
};
const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw invalid('expected a positive number');
  return n;
};
const nonNegative = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw invalid('expected a number ≥ 0');
  return n;
};

/** The `train` options, turned into a run configuration. */
/** --prune as the kit's `prune` option (a `prune` given in --kit wins). */
function withPrune(kit: RunConfig['kit'], prune: 'off' | 'polynomial' | 'constant'): RunConfig['kit'] {
  if (prune === 'off' || kit?.prune !== undefined) return kit;
  return { ...kit, prune: { schedule: prune } };
}

interface TrainOptions {
  dataset: RunConfig['dataset'];
  model: ModelName;
  method: Method;
  sparsity: number;
  moon: 'on' | 'off';
  epochs: number;
  seed: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  weightDecay: number;
  shuffle: ShuffleMode;
  loss: LossVariant;
  kernels: KernelChoice;
  head: HeadKind;
  preset: RunConfig['preset'];
  prune: 'off' | 'polynomial' | 'constant';
  fromModel?: string;
  saveModel?: string;
  trainLimit?: number;
  testLimit?: number;
  dataDir?: string;
  kit?: RunConfig['kit'];
  variant?: string;
  detectors?: string;
  backend: BackendChoice;
  out: string;
  quiet?: boolean;
}

/** Builds the program (exported for tests: parsing without running). */
export function buildProgram(): Commander.Command {
  const { Command, Option } = commander();
  const program = new Command('tfjs-moon')
    .description('Unknown-aware sparse training (MOON) for TensorFlow.js: train, benchmark and report')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.split('\n')[0] + '\n') })
    .showHelpAfterError(false);

  program
    .command('train')
    .description('train one configuration and report accuracy, ECE and OOD detection')
    .addOption(new Option('--dataset <name>', 'in-distribution data').choices(['mnist6', 'fashion-mnist', 'fashion6']).default(RUN_DEFAULTS.dataset))
    .addOption(new Option('--model <name>', 'architecture').choices(MODEL_NAMES as string[]).default(RUN_DEFAULTS.model))
    .addOption(new Option('--method <name>', 'dense, or a sparsifier').choices(METHODS as string[]).default(RUN_DEFAULTS.method))
    .option('--sparsity <s>', 'fraction of zero weights, in [0, 1)', fraction, RUN_DEFAULTS.sparsity)
    .addOption(new Option('--moon <on|off>', 'unknown-aware training').choices(['on', 'off']).default('on'))
    .option('--epochs <n>', 'epochs (MOON needs ≥ 2)', integer(1), RUN_DEFAULTS.epochs)
    .option('--seed <n>', 'seed of the splits, the initial weights and the masks', integer(0), RUN_DEFAULTS.seed)
    .option('--batch-size <n>', 'batch size', integer(1), RUN_DEFAULTS.batchSize)
    .option('--lr <x>', 'initial learning rate (scheduled ×1.2 → ×0.08)', positive, RUN_DEFAULTS.learningRate)
    .addOption(new Option('--optimizer <name>', 'inner optimizer (momentum and nesterov: 0.9)').choices(OPTIMIZERS as string[]).default(RUN_DEFAULTS.optimizer))
    .option('--weight-decay <x>', 'coupled L2 weight decay on every parameter (the reference: 5e-4; 0 for none)', nonNegative, RUN_DEFAULTS.weightDecay)
    .addOption(new Option('--loss <variant>', 'the unknown-aware loss of --moon on: the reference\'s, or an opt-in variant (docs/method.md)').choices(['released', 'abstention', 'log-unknown']).default(RUN_DEFAULTS.lossVariant))
    .addOption(new Option('--kernels <mode>', 'how masked Dense layers compute: dense, or the sparse kernels on cpu/wasm (faster, same results to float32 rounding)').choices(['dense', 'sparse', 'auto']).default(RUN_DEFAULTS.kernels))
    .addOption(new Option('--head <kind>', 'output layer: softmax (probabilities) or linear (logits, for energy and max-logit scores from real logits)').choices(HEADS as string[]).default(RUN_DEFAULTS.head))
    .addOption(new Option('--shuffle <mode>', 'order of the training set: a new seeded order every epoch, or one for the run').choices(SHUFFLE_MODES as string[]).default(RUN_DEFAULTS.shuffle))
    .addOption(new Option('--preset <name>', 'kit preset').choices(['recommended', 'as-released']).default(RUN_DEFAULTS.preset))
    .option('--train-limit <n>', 'train on a seeded subset of at most n images', integer(1))
    .option('--test-limit <n>', 'evaluate on at most n ID and n per-OOD-set images', integer(1))
    .option('--data-dir <dir>', 'where the Fashion-MNIST IDX files are (default /usr/share/datasets/fashion-mnist)')
    .addOption(new Option('--prune <schedule>', 'gradual magnitude pruning to --sparsity (from dense, over the first half of the run)').choices(['off', 'polynomial', 'constant']).default('off'))
    .option('--from-model <dir>', 'start from a saved model (--save-model): initial masks by magnitude, an unknown head added for --moon on')
    .option('--save-model <dir>', 'save the trained model there (compact sparse format; load it with loadSparse or --from-model)')
    .option('--kit <json>', 'extra createMoon options, e.g. \'{"tuner":{"alphaFinal":0.1},"voter":false}\'', kitJson)
    .option('--variant <name>', 'a name for a run with --kit options (part of its id)')
    .option('--detectors <list>', `post-hoc OOD detectors to measure after training: recommended (${RECOMMENDED_DETECTOR.name}), all, or names separated by commas (e.g. knn,vim)`)
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--out <dir>', 'output directory', 'runs/train')
    .option('--quiet', 'no progress and no table (for bench)')
    .action(async (o: TrainOptions) => {
      if (o.moon === 'on' && o.epochs < 2) throw new CliError('--moon on needs --epochs ≥ 2 (a warm-up epoch, then α)', 2);
      if (o.variant !== undefined && !isVariantName(o.variant)) {
        throw new CliError(`--variant ${JSON.stringify(o.variant)} is not a name: use letters, digits and . _ = + - (it is part of the run's id)`, 2);
      }
      if (o.detectors !== undefined) detectorNames(o.detectors, o.moon === 'on'); // an unknown name fails before training
      // Found now, not after training: where the results and the model go must be writable.
      checkWritableDir(o.out, '--out');
      if (o.saveModel !== undefined) checkModelFolder(o.saveModel);
      const config: RunConfig = {
        dataset: o.dataset, model: o.model, method: o.method, sparsity: o.method === 'dense' ? 0 : o.sparsity, moon: o.moon === 'on',
        epochs: o.epochs, seed: o.seed, batchSize: o.batchSize, learningRate: o.lr, preset: o.preset,
        optimizer: o.optimizer, weightDecay: o.weightDecay, shuffle: o.shuffle, lossVariant: o.loss, kernels: o.kernels, head: o.head,
        trainLimit: o.trainLimit, testLimit: o.testLimit, dataDir: o.dataDir, kit: withPrune(o.kit, o.prune), variant: o.variant, detectors: o.detectors,
        fromModel: o.fromModel, saveModel: o.saveModel,
      };
      await trainCommand(config, o.backend, o.out, o.quiet);
    });

  program
    .command('bench')
    .description('run a matrix of configurations (resumable), in parallel processes')
    .argument('<config>', 'bench config JSON ({ defaults, runs }; arrays expand to every combination)')
    .option('--out <dir>', 'output directory', 'runs/bench')
    .option('--jobs <n>', 'runs at a time (each TF.js process uses one core)', integer(1), 2)
    .option('--fresh', 'forget earlier results in --out and run everything again')
    .addOption(new Option('--backend <name>', 'TF.js backend for every run').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--no-report', 'do not print the report at the end')
    .action(async (configPath: string, o: { out: string; jobs: number; fresh?: boolean; backend: string; report: boolean }) => {
      await benchCommand(configPath, o.out, o.jobs, o.fresh === true, o.backend);
      if (o.report) await reportCommand(o.out);
    });

  program
    .command('report')
    .description('Markdown tables (mean ± std over seeds) and SVG figures of a bench or train directory')
    .argument('<dir>', 'a directory written by bench or train')
    .action(async (dir: string) => {
      await reportCommand(dir);
    });
  return program;
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    if (argv.length === 0) {
      process.stdout.write(program.helpInformation()); // no command: the full help, not commander's one-line error
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const e = error as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (e.code?.startsWith('commander.')) return 2; // commander already printed its one-line message
    if (error instanceof CliError) {
      process.stderr.write(`tfjs-moon: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof MoonError) {
      process.stderr.write(`tfjs-moon: ${error.name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`tfjs-moon: ${e.stack ?? e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
