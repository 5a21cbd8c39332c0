/**
 * Typed errors. Every error the library throws is a {@link MoonError}; the subclass names the family, and the
 * message says what was wrong, what was expected and how to fix it. Errors are thrown before any weight, mask or
 * optimizer slot is touched.
 */

/** Base class of every error thrown by tfjs-moon. */
export class MoonError extends Error {
  constructor(message: string) {
    super(message);
    // The library's classes carry their name on the prototype (below), so a minifying bundler cannot rename it;
    // a subclass of yours without one is named after its class.
    if (!Object.prototype.hasOwnProperty.call(new.target.prototype, 'name')) this.name = new.target.name;
  }
}

/** An option passed to `createMoon` or to a part of the kit is missing, has the wrong type or is out of range. */
export class MoonConfigError extends MoonError {}

/** A name given for a strategy (sparsifier, density distribution) is not registered. */
export class MoonRegistryError extends MoonError {
  /** The names that are registered and would have been accepted. */
  readonly validNames: readonly string[];
  constructor(message: string, validNames: readonly string[]) {
    super(message);
    this.validNames = validNames;
  }
}

/** The model does not fit the kit: no maskable layer, wrong output width, or a different model than the kit's. */
export class MoonModelError extends MoonError {}

/** The optimizer is not set up as the kit needs: not wrapped, wrapped twice, or wrapped by another kit. */
export class MoonOptimizerError extends MoonError {}

/** A sparsifier broke the mask contract (wrong shape, values other than 0 and 1). */
export class MoonMaskError extends MoonError {}

/** Bad input to a metric or a score: empty or non-finite scores, mismatched lengths, out-of-range options. */
export class MoonMetricError extends MoonError {}

/** A checkpoint cannot be written or read: disk error, corrupted file, newer format, another architecture or K. */
export class MoonCheckpointError extends MoonError {}

/** Training went wrong in a way the kit detects: a NaN or infinite loss. */
export class MoonTrainingError extends MoonError {}

/** Each class's name as a string literal: `err.name` and logs keep it in minified production bundles. */
const NAMES: ReadonlyArray<[abstract new (...args: never[]) => MoonError, string]> = [
  [MoonError, 'MoonError'], [MoonConfigError, 'MoonConfigError'], [MoonRegistryError, 'MoonRegistryError'], [MoonModelError, 'MoonModelError'],
  [MoonOptimizerError, 'MoonOptimizerError'], [MoonMaskError, 'MoonMaskError'], [MoonMetricError, 'MoonMetricError'],
  [MoonCheckpointError, 'MoonCheckpointError'], [MoonTrainingError, 'MoonTrainingError'],
];
for (const [errorClass, name] of NAMES) Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
