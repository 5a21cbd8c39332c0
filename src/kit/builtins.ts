import type { Constructor } from './registry';
import type { StrategyKind } from './tokens';
import { ErdosRenyiDistribution, ErdosRenyiKernelDistribution } from '../plugins/distributions/erdos-renyi';
import { UniformDistribution } from '../plugins/distributions/uniform';
import { MagnitudeDrop } from '../plugins/sparsifiers/drop-criteria';
import { GradientGrow, RandomGrow } from '../plugins/sparsifiers/grow-criteria';
import { RigLSparsifier } from '../plugins/sparsifiers/rigl';
import { SETSparsifier } from '../plugins/sparsifiers/set';
import { StaticSparsifier } from '../plugins/sparsifiers/static';

/**
 * The built-in strategies by kind and name. They are registered in each kit's own child container (where neither
 * your container nor the global one has the name), never in a container of yours, and not when the package loads.
 */
export const BUILTIN_STRATEGIES: Readonly<Record<StrategyKind, Readonly<Record<string, Constructor<unknown>>>>> = {
  sparsifier: { rigl: RigLSparsifier, set: SETSparsifier, static: StaticSparsifier },
  distribution: { uniform: UniformDistribution, er: ErdosRenyiDistribution, erk: ErdosRenyiKernelDistribution },
  drop: { magnitude: MagnitudeDrop },
  grow: { gradient: GradientGrow, random: RandomGrow },
};
