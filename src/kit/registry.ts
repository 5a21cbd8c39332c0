import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MoonConfigError, MoonRegistryError } from '../core/errors';
import { requireName } from '../core/validate';
import type { DensityDistribution } from '../plugins/distributions/density-distribution';
import type { DropCriterion, GrowCriterion } from '../plugins/sparsifiers/criteria';
import type { Sparsifier } from '../plugins/sparsifiers/sparsifier';
import { builtinMaskableLayer, checkMaskableLayerSpec, type MaskableLayerLookup, type MaskableLayerSpec } from '../core/maskable-layers';
import { BUILTIN_STRATEGIES } from './builtins';
import { strategyToken, type StrategyKind } from './tokens';

/** A class whose instances are `T` (what tsyringe's `useClass` takes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T> = new (...args: any[]) => T;

/** tsyringe cannot list its registrations, so the names registered in each container are kept here. */
const namesByContainer = new WeakMap<DependencyContainer, Record<StrategyKind, Set<string>>>();

function namesIn(target: DependencyContainer): Record<StrategyKind, Set<string>> {
  let names = namesByContainer.get(target);
  if (names === undefined) {
    names = { sparsifier: new Set(), distribution: new Set(), drop: new Set(), grow: new Set() };
    namesByContainer.set(target, names);
  }
  return names;
}

const REGISTER_FUNCTION: Record<StrategyKind, string> = {
  sparsifier: 'registerSparsifier',
  distribution: 'registerDistribution',
  drop: 'registerDropCriterion',
  grow: 'registerGrowCriterion',
};

const KIND_WORDS: Record<StrategyKind, string> = { sparsifier: 'sparsifier', distribution: 'distribution', drop: 'drop criterion', grow: 'grow criterion' };

function register<T>(kind: StrategyKind, name: string, ctor: Constructor<T>, target: DependencyContainer): void {
  requireName(KIND_WORDS[kind], name);
  if (typeof ctor !== 'function') {
    throw new MoonConfigError(`registering ${KIND_WORDS[kind]} "${name}": expected a class (constructor), got ${typeof ctor}`);
  }
  target.register<T>(strategyToken(kind, name), { useClass: ctor });
  namesIn(target)[kind].add(name);
}

/**
 * Registers a sparsifier class under `name`, globally or in `target` (a tsyringe container you then pass to
 * `createMoon({ container })`). A later registration of the same name wins; a name of yours wins over a built-in.
 */
export function registerSparsifier(name: string, ctor: Constructor<Sparsifier>, target: DependencyContainer = rootContainer): void {
  register('sparsifier', name, ctor, target);
}

/** Registers a density distribution class under `name`, globally or in `target`. A later registration wins. */
export function registerDistribution(name: string, ctor: Constructor<DensityDistribution>, target: DependencyContainer = rootContainer): void {
  register('distribution', name, ctor, target);
}

/**
 * Registers the drop half of a prune-and-grow sparsifier under `name`, globally or in `target`; select it with
 * `createMoon({ sparsifier: { drop: name, grow: 'gradient' } })`.
 */
export function registerDropCriterion(name: string, ctor: Constructor<DropCriterion>, target: DependencyContainer = rootContainer): void {
  register('drop', name, ctor, target);
}

/**
 * Registers the grow half of a prune-and-grow sparsifier under `name`, globally or in `target`; select it with
 * `createMoon({ sparsifier: { drop: 'magnitude', grow: name } })`.
 */
export function registerGrowCriterion(name: string, ctor: Constructor<GrowCriterion>, target: DependencyContainer = rootContainer): void {
  register('grow', name, ctor, target);
}

/**
 * Registers the built-in strategies in a kit's own container, each only where no container above it (yours, the
 * global one) has the name: yours win, and nothing is written outside the kit.
 */
export function registerBuiltins(kitContainer: DependencyContainer): void {
  for (const [kind, table] of Object.entries(BUILTIN_STRATEGIES) as [StrategyKind, Record<string, Constructor<unknown>>][]) {
    for (const [name, ctor] of Object.entries(table)) {
      const token = strategyToken(kind, name);
      if (!kitContainer.isRegistered(token, true)) kitContainer.register(token, { useClass: ctor });
    }
  }
}

/**
 * Resolves the strategy registered as `name` from `kitContainer` (whose parent chain includes the user's
 * container, if any, and the global one; the built-ins are in the kit container itself).
 * @param userContainer the container the user passed, whose names are listed in the error too
 */
export function resolveStrategy<T>(kind: StrategyKind, name: string, kitContainer: DependencyContainer, userContainer: DependencyContainer | undefined): T {
  const token = strategyToken(kind, name);
  if (typeof name === 'string' && kitContainer.isRegistered(token, true)) return kitContainer.resolve<T>(token);
  const valid = [
    ...new Set([...Object.keys(BUILTIN_STRATEGIES[kind]), ...namesIn(rootContainer)[kind], ...(userContainer ? namesIn(userContainer)[kind] : [])]),
  ].sort();
  throw new MoonRegistryError(
    `unknown ${KIND_WORDS[kind]} ${JSON.stringify(name)}: valid names are ${valid.map((n) => `'${n}'`).join(', ')}; ` +
      `register your own with ${REGISTER_FUNCTION[kind]}(name, Class)`,
    valid,
  );
}

const maskableLayerToken = (className: string): string => `tfjs-moon:maskable-layer:${className}`;

/**
 * Tells the kit which weights of a custom layer class to mask (TF Model Optimization's `PrunableLayer` idea),
 * globally or in `target` (a tsyringe container you then pass to `createMoon({ container })`). The class is
 * matched by `getClassName()`; a registration wins over a built-in one (register `Dense` with
 * `{ weights: ['kernel', 'bias'] }` to mask biases too). The spec is checked now.
 *
 * @example
 * registerMaskableLayer('MyGatedDense', { weights: ['kernel', 'gate_kernel'] });
 */
export function registerMaskableLayer(className: string, spec: MaskableLayerSpec, target: DependencyContainer = rootContainer): void {
  requireName('maskable layer class', className);
  target.register<MaskableLayerSpec>(maskableLayerToken(className), { useValue: checkMaskableLayerSpec(className, spec) });
}

/** The maskable-layer lookup of a container: what is registered there or above it, then the built-ins. */
export function maskableLayerLookup(target: DependencyContainer = rootContainer): MaskableLayerLookup {
  return (className) => {
    const token = maskableLayerToken(className);
    return target.isRegistered(token, true) ? target.resolve<MaskableLayerSpec>(token) : builtinMaskableLayer(className);
  };
}
