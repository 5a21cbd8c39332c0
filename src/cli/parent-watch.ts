/** The environment variable through which `bench` tells its trainers its pid. */
export const BENCH_PID_VARIABLE = 'TFJS_MOON_BENCH_PID';

/**
 * A trainer started by `bench` (a forked child, with an IPC channel) must not run on as an orphan when the bench
 * ends for any reason, a kill included. The channel's `disconnect` event needs the event loop to poll, which a
 * training loop may starve, so the trainer also checks, once per batch, whether its parent changed (getppid: the
 * orphan is re-parented).
 * @returns a check to call per batch: it exits the process (code 129) when the bench is gone.
 */
export function exitWithBench(): () => void {
  // The bench's pid as it started us (process.ppid may already be the re-parented one), and its channel.
  const parent = Number(process.env[BENCH_PID_VARIABLE]);
  if (!Number.isInteger(parent) || parent <= 0 || typeof process.send !== 'function') return () => undefined; // not a bench's trainer
  const leave = () => process.exit(129);
  if (!process.connected || process.ppid !== parent) leave();
  process.once('disconnect', leave);
  return () => {
    if (process.ppid !== parent) leave();
  };
}
