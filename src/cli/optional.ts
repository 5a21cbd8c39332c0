import { CliError } from './cli-error';

/** The command line's own packages: optional peers of the library, so that the library stays small. */
const CLI_PACKAGES = 'commander@14 cli-progress@3 vega@5 vega-lite@5';

/** Loads a package the command line needs, or explains how to install it. */
export function requireOptional<T>(name: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch {
    throw new CliError(`the tfjs-moon command line needs '${name}': npm install ${CLI_PACKAGES}`);
  }
}
