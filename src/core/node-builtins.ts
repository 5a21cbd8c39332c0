import { MoonConfigError } from './errors';

/** The Node built-in modules the library uses, for files (checkpoints, `file://` export) and gzip sizes. */
export interface NodeBuiltins {
  fs: typeof import('fs');
  path: typeof import('path');
  crypto: typeof import('crypto');
  zlib: typeof import('zlib');
}

/** What to use in a browser instead of files. */
export const BROWSER_STORAGE = "in a browser, save models with exportSparse(model, 'indexeddb://name') (or localstorage://, downloads://, a tf.io handler)";

type ProcessLike = { versions?: { node?: string }; getBuiltinModule?: (name: string) => unknown };

/**
 * A Node built-in module, loaded when a feature that needs it runs — never when the package loads, and never as an
 * import a bundler would try to resolve, so the package's root entry bundles for the browser as it is. Outside Node
 * the feature fails with a {@link MoonConfigError} naming the browser alternative.
 * @param feature what needs it, for the error (e.g. 'kit.checkpoint')
 * @param alternative what to use in a browser instead
 */
export function nodeBuiltin<K extends keyof NodeBuiltins>(name: K, feature: string, alternative: string): NodeBuiltins[K] {
  const proc = (globalThis as { process?: ProcessLike }).process;
  // Node ≥ 20.16 / 22.3 hands out built-ins without `require` (which an ESM build does not have).
  const builtin = proc?.getBuiltinModule?.(name);
  if (builtin) return builtin as NodeBuiltins[K];
  // Older Node running the CommonJS build: the module's own `require`, reached without a literal import.
  const nodeRequire = proc?.versions?.node && typeof require === 'function' ? require : undefined;
  if (nodeRequire) return nodeRequire(name) as NodeBuiltins[K];
  throw new MoonConfigError(`${feature} needs Node's file system ('${name}'), which this runtime does not have: ${alternative}`);
}
