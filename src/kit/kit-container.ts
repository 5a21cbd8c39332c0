import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MoonEventBus } from '../core/events';
import type { SparsifierChoice } from '../config/options';
import type { DensityDistribution } from '../plugins/distributions/density-distribution';
import { SeededRandom } from '../plugins/random-source';
import type { DropCriterion, GrowCriterion } from '../plugins/sparsifiers/criteria';
import { PruneAndGrowSparsifier } from '../plugins/sparsifiers/prune-and-grow';
import type { Sparsifier } from '../plugins/sparsifiers/sparsifier';
import { registerBuiltins, resolveStrategy } from './registry';
import { TOKENS } from './tokens';

/**
 * A kit's own child container of the user's (or of the global one): the built-in strategies and the kit-scoped
 * defaults (a random source from the kit's seed, a new event bus) are registered here wherever the user's
 * container does not already provide them, so two kits never share state and no container of the user's changes.
 */
export function kitContainer(userContainer: DependencyContainer | undefined, seed: number): DependencyContainer {
  const parent = userContainer ?? rootContainer;
  const child = parent.createChildContainer();
  registerBuiltins(child);
  if (!parent.isRegistered(TOKENS.RandomSource, true)) child.register(TOKENS.RandomSource, { useValue: new SeededRandom(seed) });
  if (!parent.isRegistered(TOKENS.EventBus, true)) child.register(TOKENS.EventBus, { useValue: new MoonEventBus() });
  return child;
}

/** The kit's sparsifier: a registered one by name, or a prune-and-grow pair of registered criteria. */
export function resolveSparsifier(choice: SparsifierChoice, container: DependencyContainer, userContainer: DependencyContainer | undefined): Sparsifier {
  if (typeof choice === 'string') return resolveStrategy<Sparsifier>('sparsifier', choice, container, userContainer);
  const drop = resolveStrategy<DropCriterion>('drop', choice.drop, container, userContainer);
  const grow = resolveStrategy<GrowCriterion>('grow', choice.grow, container, userContainer);
  return new PruneAndGrowSparsifier(drop, grow);
}

/** The kit's density distribution, by registered name. */
export function resolveDistribution(name: string, container: DependencyContainer, userContainer: DependencyContainer | undefined): DensityDistribution {
  return resolveStrategy<DensityDistribution>('distribution', name, container, userContainer);
}
