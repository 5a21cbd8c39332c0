import { injectable } from 'tsyringe';
import { MagnitudeDrop } from './drop-criteria';
import { RandomGrow } from './grow-criteria';
import { PruneAndGrowSparsifier } from './prune-and-grow';

/**
 * SET (Mocanu et al. 2018): drop the k smallest-magnitude active weights, grow k inactive positions drawn
 * uniformly at random from the kit's seeded random source. Exactly k are grown, so the density stays exact
 * (the reference code's Bernoulli growth lets it drift).
 */
@injectable()
export class SETSparsifier extends PruneAndGrowSparsifier {
  constructor() {
    super(new MagnitudeDrop(), new RandomGrow());
  }
}
