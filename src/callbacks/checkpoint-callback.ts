import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../core/errors';
import { BROWSER_STORAGE, nodeBuiltin } from '../core/node-builtins';
import { requireInteger } from '../core/validate';

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
 * fit) and keeps the newest `keep`. Put it after the kit's callbacks so it saves the state they leave.
 */
export class CheckpointCallback extends tf.Callback {
  private readonly everyEpochs: number;
  private readonly keep: number;

  /**
   * @param options where and how often
   * @param save writes one checkpoint (the kit's `checkpoint`)
   */
  constructor(
    readonly options: CheckpointOptions,
    private readonly save: (dir: string, nextEpoch: number) => Promise<void>,
  ) {
    super();
    if (typeof options?.dir !== 'string' || options.dir === '') throw new MoonConfigError('checkpoint dir must be a non-empty path');
    this.everyEpochs = requireInteger('checkpoint everyEpochs', options.everyEpochs ?? 1, 1);
    this.keep = requireInteger('checkpoint keep', options.keep ?? 3, 1);
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    if ((epoch + 1) % this.everyEpochs !== 0) return;
    const fs = nodeBuiltin('fs', 'the checkpoint callback', BROWSER_STORAGE);
    const path = nodeBuiltin('path', 'the checkpoint callback', BROWSER_STORAGE);
    await this.save(path.join(this.options.dir, `epoch-${epoch + 1}`), epoch + 1);
    const done = fs
      .readdirSync(this.options.dir)
      .map((d) => ({ d, n: Number(/^epoch-(\d+)$/.exec(d)?.[1] ?? NaN) }))
      .filter((c) => Number.isFinite(c.n))
      .sort((a, b) => b.n - a.n);
    for (const old of done.slice(this.keep)) fs.rmSync(path.join(this.options.dir, old.d), { recursive: true, force: true });
  }
}
