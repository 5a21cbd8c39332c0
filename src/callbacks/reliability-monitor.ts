import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../core/errors';
import type { MoonEventBus, ReliabilityEpochEvent } from '../core/events';
import { requireInteger } from '../core/validate';
import { ReliabilityEvaluator, type ReliabilityEvaluationOptions } from '../plugins/evaluation/reliability-evaluator';

/** Options of the {@link ReliabilityMonitor}: what to evaluate, how often, and where to report. */
export interface ReliabilityMonitorOptions extends ReliabilityEvaluationOptions {
  /** Evaluate at the end of every n-th epoch (and never otherwise). Default 1. */
  everyEpochs?: number;
  /** Where to emit `reliability:epoch` (e.g. a kit's `events`). */
  events?: MoonEventBus;
}

/** Lower-case name with every run of other characters turned into '_', for log keys like `ood_mnist_auroc`. */
function logName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/**
 * A callback that measures reliability while training: every `everyEpochs` epochs, the ID accuracy and ECE and,
 * for each OOD set, AUROC / AUPR-In / AUPR-Out / FPR@95 of the chosen score (a {@link ReliabilityEvaluator} does the
 * work). The numbers go into the epoch's `logs` (so `History`, tfjs-vis and later callbacks see them) as `id_acc`,
 * `id_ece`, `ood_<name>_auroc`, `ood_<name>_aupr_in`, `ood_<name>_aupr_out`, `ood_<name>_fpr95`, and into a
 * `reliability:epoch` event.
 */
export class ReliabilityMonitor extends tf.Callback {
  private readonly evaluator: ReliabilityEvaluator;
  private readonly everyEpochs: number;

  constructor(private readonly options: ReliabilityMonitorOptions) {
    super();
    this.evaluator = new ReliabilityEvaluator(options);
    this.everyEpochs = requireInteger('ReliabilityMonitor: everyEpochs', options.everyEpochs ?? 1, 1, '', MoonMetricError);
  }

  override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
    if ((epoch + 1) % this.everyEpochs !== 0) return;
    const event = await this.evaluate(epoch);
    if (logs) {
      logs.id_acc = event.accuracy;
      logs.id_ece = event.ece;
      for (const [name, m] of Object.entries(event.ood)) {
        const key = `ood_${logName(name)}`;
        Object.assign(logs, { [`${key}_auroc`]: m.auroc, [`${key}_aupr_in`]: m.auprIn, [`${key}_aupr_out`]: m.auprOut, [`${key}_fpr95`]: m.fpr95 });
      }
    }
    this.options.events?.emit('reliability:epoch', event);
  }

  /** Runs the evaluation now on the callback's model (also usable after training); asynchronous reads only. */
  async evaluate(epoch = -1): Promise<ReliabilityEpochEvent> {
    return this.evaluator.evaluate(this.model, epoch);
  }
}
