import { CliError } from './cli-error';

/**
 * The command line's own packages: optional peers of the library, so that the library stays small. The MNIST digits
 * are among them because every experiment but fashion6 reads them, so one install line serves a first run.
 */
const CLI_PACKAGES = 'commander@14 cli-progress@3 vega@5 vega-lite@5 @stdlib/stats-base-dists-t-quantile@0.2 mnist@1';

/** What to install for each package the command line may miss (the data package only where data is read). */
const INSTALL: Record<string, string> = {
  commander: CLI_PACKAGES,
  'cli-progress': CLI_PACKAGES,
  vega: CLI_PACKAGES,
  'vega-lite': CLI_PACKAGES,
  '@stdlib/stats-base-dists-t-quantile': CLI_PACKAGES,
  mnist: 'mnist@1 (the 10,000 MNIST digits the mnist6 experiment and the demo train on)',
  '@tensorflow/tfjs': '@tensorflow/tfjs@4 @tensorflow/tfjs-backend-wasm@4',
  webgpu: 'webgpu @tensorflow/tfjs-backend-webgpu@4 (Dawn for Node, and TF.js\'s webgpu backend)',
  '@tensorflow/tfjs-backend-webgpu': 'webgpu @tensorflow/tfjs-backend-webgpu@4 (Dawn for Node, and TF.js\'s webgpu backend)',
};

/** The npm install line for a missing package the command line needs. */
export function installHint(name: string): string {
  return `npm install ${INSTALL[name] ?? name}`;
}

/** The package a MODULE_NOT_FOUND error is about (undefined for other errors and for the project's own files). */
export function missingPackage(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string } | undefined;
  if (e?.code !== 'MODULE_NOT_FOUND' || typeof e.message !== 'string') return undefined;
  const name = /Cannot find module '([^']+)'/.exec(e.message)?.[1];
  if (name === undefined || name.startsWith('.') || name.startsWith('/')) return undefined;
  return name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
}

/** Loads a package the command line needs, or explains how to install it (other load errors pass through). */
export function requireOptional<T>(name: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    if (missingPackage(error) !== name) throw error;
    throw new CliError(`the tfjs-moon command line needs '${name}', which is not installed: ${installHint(name)}`, 2);
  }
}
