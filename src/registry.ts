import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MoonConfigError, MoonRegistryError } from './errors';
import type { DensityDistribution } from './plugins/distributions/density-distribution';
import type { Sparsifier } from './plugins/sparsifiers/sparsifier';
import { distributionToken, sparsifierToken } from './tokens';

/** A class whose instances are `T` (what tsyringe's `useClass` takes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T> = new (...args: any[]) => T;

type Kind = 'sparsifier' | 'distribution';

/** tsyringe cannot list its registrations, so the names registered in each container are kept here. */
const namesByContainer = new WeakMap<DependencyContainer, Record<Kind, Set<string>>>();

function namesIn(target: DependencyContainer): Record<Kind, Set<string>> {
  let names = namesByContainer.get(target);
  if (names === undefined) {
    names = { sparsifier: new Set(), distribution: new Set() };
    namesByContainer.set(target, names);
  }
  return names;
}

function register<T>(kind: Kind, name: string, ctor: Constructor<T>, target: DependencyContainer): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(name)) {
    throw new MoonConfigError(
      `a ${kind} name must be a non-empty string of letters, digits, '_', '.' or '-' (got ${JSON.stringify(name)})`,
    );
  }
  if (typeof ctor !== 'function') {
    throw new MoonConfigError(`registering ${kind} "${name}": expected a class (constructor), got ${typeof ctor}`);
  }
  const token = kind === 'sparsifier' ? sparsifierToken(name) : distributionToken(name);
  target.register<T>(token, { useClass: ctor });
  namesIn(target)[kind].add(name);
}

/**
 * Registers a sparsifier class under `name`, globally or in `target` (a tsyringe container you then pass to
 * `createMoon({ container })`). A later registration of the same name wins.
 */
export function registerSparsifier(name: string, ctor: Constructor<Sparsifier>, target: DependencyContainer = rootContainer): void {
  register('sparsifier', name, ctor, target);
}

/**
 * Registers a density distribution class under `name`, globally or in `target`. A later registration of the
 * same name wins.
 */
export function registerDistribution(
  name: string,
  ctor: Constructor<DensityDistribution>,
  target: DependencyContainer = rootContainer,
): void {
  register('distribution', name, ctor, target);
}

/**
 * Resolves the strategy registered as `name` from `kitContainer` (whose parent chain includes the user's
 * container, if any, and the global one).
 * @param userContainer the container the user passed, whose names are listed in the error too
 */
export function resolveStrategy<T>(
  kind: Kind,
  name: string,
  kitContainer: DependencyContainer,
  userContainer: DependencyContainer | undefined,
): T {
  const token = kind === 'sparsifier' ? sparsifierToken(name) : distributionToken(name);
  if (typeof name === 'string' && kitContainer.isRegistered(token, true)) return kitContainer.resolve<T>(token);
  const valid = [...new Set([...namesIn(rootContainer)[kind], ...(userContainer ? namesIn(userContainer)[kind] : [])])].sort();
  const how = kind === 'sparsifier' ? 'registerSparsifier' : 'registerDistribution';
  throw new MoonRegistryError(
    `unknown ${kind} ${JSON.stringify(name)}: valid names are ${valid.map((n) => `'${n}'`).join(', ')}; ` +
      `register your own with ${how}(name, Class)`,
    valid,
  );
}
