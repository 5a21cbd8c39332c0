import { BROWSER_STORAGE, nodeBuiltin } from '../core/node-builtins';

/**
 * Reading the files a folder's manifest names, when the folder may come from a stranger: a name is accepted only
 * as a plain relative path inside the folder (no `..`, no absolute path, no symbolic link that leaves it), only a
 * regular file is read (never a device or a pipe), and its size is checked against what the caller expects before
 * a byte is read, so a manifest cannot make us read another file, allocate without bound, or hang.
 */

/** Why a name or a file was refused; the caller turns it into its own typed error. */
export class UnsafeFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

const node = () => ({ fs: nodeBuiltin('fs', 'reading files', BROWSER_STORAGE), path: nodeBuiltin('path', 'reading files', BROWSER_STORAGE) });

/**
 * The absolute path of `name` inside `dir`, or an {@link UnsafeFileError}: `name` must be a non-empty relative path
 * of plain segments (no `.` or `..`, no backslash, no NUL), and the real path (symbolic links resolved) must stay
 * inside the real `dir`.
 */
export function pathInside(dir: string, name: unknown): string {
  const { fs, path } = node();
  if (typeof name !== 'string' || name === '') throw new UnsafeFileError(`a file name must be a non-empty string, got ${JSON.stringify(name)}`);
  const segments = name.split('/');
  if (path.isAbsolute(name) || name.includes('\\') || name.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UnsafeFileError(`${JSON.stringify(name)} is not a plain relative name inside the folder (no absolute path, no "..")`);
  }
  const full = path.join(dir, ...segments);
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch {
    throw new UnsafeFileError(`${JSON.stringify(name)} does not exist in ${dir}`);
  }
  const root = fs.realpathSync(dir);
  if (real !== root && !real.startsWith(root + path.sep)) throw new UnsafeFileError(`${JSON.stringify(name)} leads outside ${dir} (a symbolic link)`);
  return real;
}

/** Options of {@link readFileInside}. */
export interface ReadLimits {
  /** The exact size the file must have. */
  bytes?: number;
  /** The largest size accepted (when the exact size is not known). */
  maxBytes?: number;
}

/** The real path and size of the regular file `name` inside `dir`, or an {@link UnsafeFileError}. */
function regularFileInside(dir: string, name: unknown): { real: string; size: number } {
  const { fs } = node();
  const real = pathInside(dir, name);
  const stat = fs.statSync(real);
  if (!stat.isFile()) throw new UnsafeFileError(`${JSON.stringify(name)} is not a regular file (a device, pipe or folder is never read)`);
  return { real, size: stat.size };
}

/** The size of the regular file `name` inside `dir` ({@link pathInside}); an {@link UnsafeFileError} otherwise. */
export function fileSizeInside(dir: string, name: unknown): number {
  return regularFileInside(dir, name).size;
}

/** Reads the regular file `name` inside `dir` after checking its name, kind and size against `limits`. */
export function readFileInside(dir: string, name: unknown, limits: ReadLimits = {}): Buffer {
  const { fs } = node();
  const { real, size } = regularFileInside(dir, name);
  if (limits.bytes !== undefined && size !== limits.bytes) {
    throw new UnsafeFileError(`${JSON.stringify(name)} has ${size} bytes, the manifest implies ${limits.bytes}`);
  }
  if (limits.maxBytes !== undefined && size > limits.maxBytes) {
    throw new UnsafeFileError(`${JSON.stringify(name)} has ${size} bytes, more than the ${limits.maxBytes} accepted`);
  }
  const buffer = fs.readFileSync(real);
  if (buffer.byteLength !== size) throw new UnsafeFileError(`${JSON.stringify(name)} changed while it was read`);
  return buffer;
}

/** The largest manifest (model.json, a checkpoint's manifest.json) read: far above any real one. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
