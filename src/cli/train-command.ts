import * as path from 'path';
import type * as CliProgress from 'cli-progress';
import { useBackend, type BackendChoice } from './backend';
import { detectorTables } from './detector-report';
import { summaryTables } from './report';
import { requireOptional } from './optional';
import { exitWithBench } from './parent-watch';
import { trainRun, type RunConfig, type RunResult } from './train';
import { writeAtomic } from './write-atomic';

/**
 * `tfjs-moon train`: one run with a progress bar (or a line per epoch when the output is not a terminal), then the
 * result table; writes `results.json` and `report.md` into `out`.
 */
export async function trainCommand(config: RunConfig, backendChoice: BackendChoice, out: string, quiet = false): Promise<RunResult> {
  const benchGone = exitWithBench();
  const backend = await useBackend(backendChoice);
  const { SingleBar, Presets } = requireOptional<typeof CliProgress>('cli-progress');
  const tty = process.stderr.isTTY && !quiet;
  const bar = tty
    ? new SingleBar(
        { format: ' epoch {epoch} |{bar}| {percentage}% | loss {loss} | acc {acc} | α {alpha} | density {density} | ETA {eta_formatted}', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  const log = (line: string) => (quiet ? undefined : process.stderr.write(`${line}\n`));
  let status = { epoch: '1', loss: '–', acc: '–', alpha: '–', density: '–' };
  const result = await trainRun(config, backend, {
    onStart: ({ experiment, kit, stepsPerEpoch }) => {
      log(`tfjs-moon train: ${config.dataset} (${experiment.train.count} train / ${experiment.test.count} test; OOD ${experiment.ood.map((o) => o.name).join(', ')}), ` +
        `${config.model}, ${config.method}${config.method === 'dense' ? '' : ` at sparsity ${config.sparsity}`}, MOON ${config.moon ? 'on' : 'off'}, ${config.epochs} epochs, seed ${config.seed}, backend ${backend}`);
      experiment.notes.forEach((n) => log(`  note: ${n}`));
      status = { ...status, density: kit.density.toFixed(3) };
      bar?.start(config.epochs * stepsPerEpoch, 0, status);
    },
    onBatch: ({ epoch }) => {
      benchGone();
      bar?.increment(1, { ...status, epoch: String(epoch + 1) });
    },
    onEpoch: ({ epoch, loss, acc, alpha, density, seconds }) => {
      status = { epoch: String(epoch + 2), loss: loss.toFixed(4), acc: acc.toFixed(4), alpha: alpha === undefined ? '–' : alpha.toFixed(4), density: density.toFixed(3) };
      if (bar) bar.update({ ...status, epoch: String(epoch + 1) });
      else log(`  epoch ${epoch + 1}/${config.epochs}  loss ${status.loss}  acc ${status.acc}  α ${status.alpha}  density ${status.density}  ${seconds.toFixed(1)} s`);
    },
    onDetector: ({ name, index, count }) => {
      if (index === 0) bar?.stop();
      log(`  detector ${index + 1}/${count}: ${name}`);
    },
  });
  bar?.stop();
  writeAtomic(path.join(out, 'results.json'), JSON.stringify(result, null, 1));
  // The report's tables, for one run.
  const table = summaryTables([result]) + (result.metrics.detectors ? `\n\n${detectorTables([result])}` : '');
  writeAtomic(path.join(out, 'report.md'), `# ${result.id}\n\n${table}\n\nBackend ${backend}, ${result.environment.machine}, Node ${result.environment.node}, tfjs ${result.environment.tfjs}, ${result.environment.date}; ${result.seconds.toFixed(1)} s.\n`);
  if (!quiet) process.stdout.write(`\n${table}\n\n(values in %; results in ${path.join(out, 'results.json')})\n`);
  return result;
}
