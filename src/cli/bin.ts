#!/usr/bin/env node
/**
 * The installed `tfjs-moon` command. It loads the command line inside a try, so that a peer package missing at load
 * time (TF.js itself, or one of the command line's optional packages) is one line with the install command and
 * exit code 2, not a stack trace.
 */
import { installHint, missingPackage } from './optional';

type Main = (argv: string[]) => Promise<number>;

let main: Main;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  main = (require('./main') as { main: Main }).main;
} catch (error) {
  const name = missingPackage(error);
  if (name === undefined) throw error;
  process.stderr.write(`tfjs-moon: the command line needs '${name}', which is not installed: ${installHint(name)}\n`);
  process.exit(2);
}
main(process.argv.slice(2)).then((code) => process.exit(code));
