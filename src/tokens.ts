/**
 * DI tokens of a kit. Register your own value or class under one of these in the container you pass to
 * `createMoon({ container })` and it wins over the default.
 */
export const TOKENS = {
  /** The kit's {@link RandomSource}. Default: `new SeededRandom(seed)`, one per kit. */
  RandomSource: Symbol.for('tfjs-moon:RandomSource'),
  /** The kit's {@link MoonEventBus}. Default: a new bus per kit; register one to listen to several kits. */
  EventBus: Symbol.for('tfjs-moon:EventBus'),
} as const;

/** Token under which the sparsifier called `name` is registered. */
export function sparsifierToken(name: string): string {
  return `tfjs-moon:sparsifier:${name}`;
}

/** Token under which the density distribution called `name` is registered. */
export function distributionToken(name: string): string {
  return `tfjs-moon:distribution:${name}`;
}
