import * as tf from '@tensorflow/tfjs';
import { MoonCheckpointError, MoonConfigError } from '../core/errors';
import { BROWSER_STORAGE, nodeBuiltin } from '../core/node-builtins';
import { requireInteger } from '../core/validate';
import { foreignCheckpoints, pruneCheckpoints } from '../plugins/checkpoint/checkpoint-files';

/** Options of a kit's checkpoint callback. */
export interface CheckpointOptions {
  /** Directory holding one subdirectory per checkpoint (`epoch-<n>`). */
  dir: string;
  /** Write a checkpoint every n epochs. Default 1. */
  everyEpochs?: number;
  /** Keep the last k checkpoints, deleting older ones. Default 3. */
  keep?: number;
}

/**
 * Writes `dir/epoch-<n>` at the end of every `everyEpochs`-th epoch (n = epochs done, the `initialEpoch` of a resumed
 * fit) and keeps the newest `keep` of this run. A folder holding another run's checkpoints is refused when the fit
 * begins (a resume would mix the runs, and pruning would delete one for the other). Put it after the kit's
 * callbacks so it saves the state they leave.
 */
export class CheckpointCallback extends tf.Callback {
  private readonly everyEpochs: number;
  private readonly keep: number;

  /**
   * @param options where and how often
   * @param save writes one checkpoint (the kit's `checkpoint`)
   * @param run the kit's run id, written into its checkpoints
   */
  constructor(
    readonly options: CheckpointOptions,
    private readonly save: (dir: string, nextEpoch: number) => Promise<void>,
    private readonly run: string,
  ) {
    super();
    if (typeof options?.dir !== 'string' || options.dir === '') throw new MoonConfigError('checkpoint dir must be a non-empty path');
    this.everyEpochs = requireInteger('checkpoint everyEpochs', options.everyEpochs ?? 1, 1);
    this.keep = requireInteger('checkpoint keep', options.keep ?? 3, 1);
  }

  override async onTrainBegin(): Promise<void> {
    const foreign = foreignCheckpoints(this.options.dir, this.run);
    if (foreign.length > 0) {
      throw new MoonCheckpointError(
        `${this.options.dir} holds checkpoints of another run (${foreign.join(', ')}): checkpoint this run into an empty folder, ` +
          'or continue that run with createMoon({ resumeFrom }) and the same options',
      );
    }
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    if ((epoch + 1) % this.everyEpochs !== 0) return;
    const path = nodeBuiltin('path', 'the checkpoint callback', BROWSER_STORAGE);
    await this.save(path.join(this.options.dir, `epoch-${epoch + 1}`), epoch + 1);
    pruneCheckpoints(this.options.dir, this.run, this.keep);
  }
}
