import { BROWSER_STORAGE, nodeBuiltin } from '../core/node-builtins';

/**
 * Directories that tfjs-moon writes whole (an exported model, a checkpoint): written atomically and crash-safely,
 * and never at the cost of anything we did not write.
 *
 * A write goes to a temporary sibling `<dir>.tmp-<pid>-<time>` (files and folder fsynced), then the old `dir` is
 * renamed to `<dir>.old-<pid>-<time>`, the temporary one to `dir` (the parent fsynced after each rename), and the
 * old copy's files are removed. A kill between the two renames leaves no `dir` but a complete `.old-` copy: readers
 * take it ({@link committedDirectory}) and the next write renames it back first. Only names of exactly those two
 * patterns are ever cleaned up, and a `dir` holding anything but the files being written is refused.
 */

/** Thrown when `dir` holds entries tfjs-moon did not write; the caller wraps it in its own typed error. */
export class ForeignFilesError extends Error {
  constructor(
    readonly dir: string,
    readonly foreign: readonly string[],
  ) {
    super(
      `${dir} holds ${foreign.map((f) => JSON.stringify(f)).join(', ')}, which tfjs-moon did not write; it never deletes what it did not write: ` +
        'choose an empty or new folder',
    );
    this.name = 'ForeignFilesError';
  }
}

const node = () => ({ fs: nodeBuiltin('fs', 'writing a directory', BROWSER_STORAGE), path: nodeBuiltin('path', 'writing a directory', BROWSER_STORAGE) });

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Our exact sibling names for `dir`: `<base>.tmp-<pid>-<ms>` and `<base>.old-<pid>-<ms>`. */
const siblingPattern = (base: string, kind: 'tmp' | 'old'): RegExp => new RegExp(`^${escape(base)}\\.${kind}-\\d+-\\d+$`);

/** Our siblings of `dir` of one kind, newest first (by the time in their name). */
function siblings(dir: string, kind: 'tmp' | 'old'): string[] {
  const { fs, path } = node();
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) return [];
  const pattern = siblingPattern(path.basename(dir), kind);
  const time = (name: string): number => Number(name.slice(name.lastIndexOf('-') + 1));
  return fs
    .readdirSync(parent)
    .filter((name) => pattern.test(name))
    .sort((a, b) => time(b) - time(a))
    .map((name) => path.join(parent, name));
}

/** fsync of a directory, so a rename or a new file in it is on disk (a no-op where the platform refuses it). */
function syncDirectory(dir: string): void {
  const { fs } = node();
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open directories; their renames are durable by other means.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Where the last completed write of `dir` is: `dir` itself, or, after a kill between the two renames of a
 * replacement, its complete `.old-` copy. Readers use this; it changes nothing.
 */
export function committedDirectory(dir: string): string {
  const { fs } = node();
  if (fs.existsSync(dir)) return dir;
  return siblings(dir, 'old')[0] ?? dir;
}

/** The entries of an existing `dir` that are not among `ours`; throws if `dir` is not a plain directory. */
function foreignEntries(dir: string, ours: readonly string[]): string[] {
  const { fs } = node();
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory()) return [`${dir} itself (a ${stat.isSymbolicLink() ? 'symbolic link' : 'file'}, not a folder)`];
  return fs.readdirSync(dir).filter((name) => !ours.includes(name) || !fs.lstatSync(`${dir}/${name}`).isFile());
}

/** Removes a folder that holds only our files (each removed by name, then the empty folder). */
function removeOurs(dir: string, ours: readonly string[]): void {
  const { fs, path } = node();
  for (const name of ours) fs.rmSync(path.join(dir, name), { force: true });
  fs.rmdirSync(dir);
}

/** Writes one file and fsyncs it. */
function writeSynced(file: string, content: Uint8Array | string): void {
  const { fs } = node();
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `files` (name → bytes or text) as the directory `dir`, atomically and crash-safely (see above). Refuses,
 * with a {@link ForeignFilesError} and nothing changed, a `dir` that holds anything but files of these names. On
 * any other error the temporary directory is removed and the error rethrown; the previous `dir` is intact. Node only.
 */
export function writeDirectoryAtomically(dir: string, files: Record<string, Uint8Array | string>): void {
  const { fs, path } = node();
  const ours = Object.keys(files);
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const interrupted = siblings(dir, 'old');
  if (!fs.existsSync(dir) && interrupted.length > 0) {
    fs.renameSync(interrupted[0], dir); // a replacement was killed between its renames: the old copy comes back first
    syncDirectory(parent);
  }
  if (fs.existsSync(dir)) {
    const foreign = foreignEntries(dir, ours);
    if (foreign.length > 0) throw new ForeignFilesError(dir, foreign);
  }
  for (const stale of siblings(dir, 'tmp')) fs.rmSync(stale, { recursive: true, force: true });
  for (const stale of siblings(dir, 'old')) if (foreignEntries(stale, ours).length === 0) removeOurs(stale, ours);
  const stamp = `${process.pid}-${Date.now()}`;
  const temporary = `${dir}.tmp-${stamp}`;
  try {
    fs.mkdirSync(temporary);
    for (const [name, content] of Object.entries(files)) writeSynced(path.join(temporary, name), content);
    syncDirectory(temporary);
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  const old = `${dir}.old-${stamp}`;
  const replacing = fs.existsSync(dir);
  if (replacing) {
    fs.renameSync(dir, old);
    syncDirectory(parent);
  }
  try {
    fs.renameSync(temporary, dir);
  } catch (error) {
    if (replacing) fs.renameSync(old, dir);
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  syncDirectory(parent);
  if (replacing) removeOurs(old, ours);
}
