import { injectable } from 'tsyringe';
import type { DensityDistribution, LayerShape } from './density-distribution';

/** Every masked layer gets the global density. */
@injectable()
export class UniformDistribution implements DensityDistribution {
  densities(layers: readonly LayerShape[], density: number): number[] {
    return layers.map(() => density);
  }
}
