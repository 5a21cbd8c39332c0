import { injectable } from 'tsyringe';
import { MagnitudeDrop } from './drop-criteria';
import { GradientGrow } from './grow-criteria';
import { PruneAndGrowSparsifier } from './prune-and-grow';

/**
 * RigL (Evci et al. 2020): drop the k smallest-magnitude active weights, grow the k inactive positions (the
 * just-dropped ones included) with the largest dense-gradient magnitude on the current batch.
 */
@injectable()
export class RigLSparsifier extends PruneAndGrowSparsifier {
  constructor() {
    super(new MagnitudeDrop(), new GradientGrow());
  }
}
