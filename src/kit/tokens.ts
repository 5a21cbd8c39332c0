/**
 * DI tokens of a kit. Register your own value or class under one of these in the container you pass to
 * `createMoon({ container })` and it wins over the default.
 */
export const TOKENS = {
  /** The kit's {@link RandomSource}. Default: `new SeededRandom(seed)`, one per kit. */
  RandomSource: Symbol.for('tfjs-moon:RandomSource'),
  /** The kit's {@link MoonEventBus} (its event sink). Default: a new bus per kit; register one to listen to several kits. */
  EventBus: Symbol.for('tfjs-moon:EventBus'),
} as const;

/** The kinds of named strategies a container can hold. */
export type StrategyKind = 'sparsifier' | 'distribution' | 'drop' | 'grow';

/** Token under which the strategy of `kind` called `name` is registered, e.g. `tfjs-moon:sparsifier:rigl`. */
export function strategyToken(kind: StrategyKind, name: string): string {
  return `tfjs-moon:${kind}:${name}`;
}
