import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CliError } from './cli-error';

/**
 * Checks, before any training, that `dir` can be created and written: creates it and writes and removes a probe
 * file of our own. A usage error (one line, exit 2) names the flag, the folder and the system's reason.
 */
export function checkWritableDir(dir: string, flag: string): void {
  const probe = path.join(dir, `.tfjs-moon-write-check-${process.pid}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.unlinkSync(probe);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`${flag} ${dir} cannot be written (${e.code ?? e.message}): choose a folder you can write to`, 2);
  }
}

/** What a bench lock file holds. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

/** The lock file of a bench output folder. */
export const BENCH_LOCK = '.bench.lock';

/** Whether process `pid` runs on this machine (EPERM: it runs as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner recorded in a lock file, or undefined when it cannot be read (a torn write counts as stale). */
function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of bench folder `out` (created exclusively, so two processes cannot both take it): a second bench
 * on the same folder is a usage error naming the process that holds it. A lock left by a process that no longer
 * runs on this host is taken over with a warning. The lock is removed when this process exits.
 * @returns a function that releases the lock (also called at exit).
 */
export function acquireBenchLock(out: string): () => void {
  const file = path.join(out, BENCH_LOCK);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      const release = () => {
        if (readOwner(file)?.pid === me.pid) fs.rmSync(file, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(file);
    if (owner && (owner.host !== me.host || isAlive(owner.pid))) {
      throw new CliError(
        `another bench (pid ${owner.pid} on ${owner.host}, started ${owner.started}) is writing ${out}: wait for it to finish, or use another --out`,
        2,
      );
    }
    process.stderr.write(`tfjs-moon bench: taking over the lock of ${out} left by ${owner ? `pid ${owner.pid}, which no longer runs` : 'an unreadable lock file'}\n`);
    fs.rmSync(file, { force: true });
  }
  throw new CliError(`cannot take the lock ${file}: another process keeps creating it`, 2);
}

/** The files `--save-model` writes (those of `exportSparse`). */
const MODEL_FILES = ['model.json', 'weights.bin'];

/**
 * Checks, before training, the folder `--save-model` will write: writable, and holding nothing but a model saved
 * there before (the export refuses other files, and would otherwise fail only after training).
 */
export function checkModelFolder(dir: string): void {
  checkWritableDir(dir, '--save-model');
  const foreign = fs.readdirSync(dir).filter((name) => !MODEL_FILES.includes(name));
  if (foreign.length > 0) {
    throw new CliError(`--save-model ${dir} holds ${foreign.map((f) => JSON.stringify(f)).join(', ')}, which a saved model does not: choose an empty or new folder`, 2);
  }
}
