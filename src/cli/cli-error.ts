/** An error of the command line: bad arguments (exit code 2) or a failed run (exit code 1), shown as one line. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
