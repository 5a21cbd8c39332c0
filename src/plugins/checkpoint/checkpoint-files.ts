import { MoonCheckpointError } from '../../core/errors';
import { BROWSER_STORAGE, nodeBuiltin } from '../../core/node-builtins';
import { committedDirectory, ForeignFilesError, writeDirectoryAtomically } from '../atomic-directory';
import { MAX_MANIFEST_BYTES, readFileInside, UnsafeFileError, type ReadLimits } from '../folder-reads';

/** The checkpoint format's name and version; a newer version fails to load with a typed error. */
export const CHECKPOINT_FORMAT = 'tfjs-moon-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** The manifest's own checksum lives beside it, so a damaged manifest is caught too. */
const MANIFEST = 'manifest.json';
const MANIFEST_SUM = 'manifest.json.sha256';
/** The data files a checkpoint may hold; a manifest naming any other file is refused. */
export const CHECKPOINT_DATA_FILES = ['weights.bin', 'state.bin'] as const;
/** Every file of a checkpoint folder: the only names its writes may replace. */
export const CHECKPOINT_FILES: readonly string[] = [...CHECKPOINT_DATA_FILES, MANIFEST, MANIFEST_SUM];

/**
 * Node's modules for checkpoint files, loaded when a checkpoint is written or read (checkpoints are files: Node
 * only). The live module objects, so file-system failures can be simulated in tests.
 */
function node() {
  const need = <K extends 'fs' | 'path' | 'crypto'>(name: K) => nodeBuiltin(name, 'checkpoints (kit.checkpoint, resumeFrom)', BROWSER_STORAGE);
  return { fs: need('fs'), path: need('path'), crypto: need('crypto') };
}

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array | string): string {
  return node().crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `files` (name → bytes) plus `manifest` (with each file's sha256) as the directory `dir`, atomically
 * ({@link writeDirectoryAtomically}): `dir` is never half written.
 */
export function writeCheckpointFiles(dir: string, manifest: Record<string, unknown>, files: Record<string, Uint8Array>): void {
  const withSums = { ...manifest, files: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)])) };
  const manifestText = JSON.stringify(withSums, null, 1);
  try {
    writeDirectoryAtomically(dir, { ...files, [MANIFEST]: manifestText, [MANIFEST_SUM]: sha256(manifestText) });
  } catch (error) {
    if (error instanceof ForeignFilesError) throw new MoonCheckpointError(`cannot write the checkpoint ${dir}: ${error.message}; nothing was written`);
    throw new MoonCheckpointError(
      `cannot write the checkpoint ${dir}: ${(error as Error).message}. Nothing was changed: the previous checkpoint (if any) is intact; ` +
        `check that the directory is writable and the disk has space`,
    );
  }
}

/** What {@link readCheckpointFiles} returns: the manifest and the verified files. */
export interface CheckpointFiles {
  dir: string;
  manifest: Record<string, unknown> & { format: string; version: number; files: Record<string, string> };
  files: Record<string, Buffer>;
}

/** Whether `dir` holds a checkpoint (its manifest), after a kill between renames too. */
function holdsCheckpoint(dir: string): boolean {
  const { fs, path } = node();
  return fs.existsSync(path.join(committedDirectory(dir), MANIFEST));
}

/**
 * The checkpoints `where` stands for, newest first: `where` itself if it is one, else its subdirectories that are
 * (by the epoch number ending their name, then by time).
 */
export function checkpointCandidates(where: string): string[] {
  const { fs, path } = node();
  if (holdsCheckpoint(where)) return [where];
  if (!fs.existsSync(where) || !fs.statSync(where).isDirectory()) return [];
  const names = fs.readdirSync(where).filter((d) => !d.includes('.tmp-') && !d.includes('.old-') && holdsCheckpoint(path.join(where, d)));
  const time = (d: string): number => fs.statSync(path.join(committedDirectory(path.join(where, d)), MANIFEST)).mtimeMs;
  return names
    .map((d) => ({ d, time: time(d), epoch: Number(/(\d+)$/.exec(d)?.[1] ?? -1) }))
    .sort((a, b) => b.epoch - a.epoch || b.time - a.time)
    .map((c) => path.join(where, c.d));
}

/** The sizes a manifest's data files must have, from its records; throws if the records are malformed. */
export type ExpectedSizes = (manifest: CheckpointFiles['manifest'], dir: string) => Record<string, number>;

/**
 * Reads a checkpoint and verifies its format, version and every checksum; throws a typed error otherwise. Under a
 * parent folder, the newest checkpoint that reads completely is taken (a damaged newer one is skipped, and named
 * in the error when none reads). Every file is a regular file inside the checkpoint, of the size the manifest's
 * records imply (`sizes`), checked before it is read; `check` then checks the contents (a failure skips to the
 * next older checkpoint under a parent folder).
 */
export function readCheckpointFiles(where: string, sizes?: ExpectedSizes, check?: (files: CheckpointFiles) => void): CheckpointFiles {
  const candidates = checkpointCandidates(where);
  if (candidates.length === 0) throw new MoonCheckpointError(`no checkpoint at ${where}: expected ${MANIFEST} there or in a subdirectory`);
  const failures: string[] = [];
  for (const dir of candidates) {
    try {
      const files = readOneCheckpoint(committedDirectory(dir), sizes);
      check?.(files);
      return files;
    } catch (error) {
      if (!(error instanceof MoonCheckpointError) || candidates.length === 1) throw error;
      failures.push(error.message);
    }
  }
  throw new MoonCheckpointError(`no complete checkpoint under ${where}: ${failures.join('; ')}`);
}

/** A checkpoint manifest's JSON with its format and version field checked (not its version's range). */
function parseManifest(dir: string, text: string): CheckpointFiles['manifest'] {
  let manifest: CheckpointFiles['manifest'];
  try {
    manifest = JSON.parse(text) as CheckpointFiles['manifest'];
  } catch {
    throw new MoonCheckpointError(`checkpoint ${dir} is corrupted: ${MANIFEST} is not JSON`);
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== CHECKPOINT_FORMAT) {
    throw new MoonCheckpointError(`${dir} is not a tfjs-moon checkpoint (format ${JSON.stringify((manifest as { format?: unknown } | null)?.format)})`);
  }
  if (!Number.isInteger(manifest.version) || manifest.version < 1) throw new MoonCheckpointError(`checkpoint ${dir} is malformed: format version ${JSON.stringify(manifest.version)}`);
  return manifest;
}

/** Reads and verifies one checkpoint folder. */
function readOneCheckpoint(dir: string, sizes: ExpectedSizes | undefined): CheckpointFiles {
  const read = (name: string, limits: ReadLimits): Buffer => {
    try {
      return readFileInside(dir, name, limits);
    } catch (error) {
      const reason = error instanceof UnsafeFileError ? error.message : (error as Error).message;
      throw new MoonCheckpointError(`checkpoint ${dir} is incomplete or damaged: ${name} cannot be read (${reason})`);
    }
  };
  const manifestText = read(MANIFEST, { maxBytes: MAX_MANIFEST_BYTES }).toString('utf8');
  if (sha256(manifestText) !== read(MANIFEST_SUM, { maxBytes: 1024 }).toString('utf8').trim()) {
    throw new MoonCheckpointError(`checkpoint ${dir} is corrupted: ${MANIFEST} does not match its checksum; resume from another checkpoint`);
  }
  const manifest = parseManifest(dir, manifestText);
  if (manifest.version > CHECKPOINT_VERSION) {
    throw new MoonCheckpointError(`checkpoint ${dir} has format version ${manifest.version}, newer than this tfjs-moon reads (${CHECKPOINT_VERSION}): upgrade tfjs-moon`);
  }
  const listed = manifest.files;
  if (typeof listed !== 'object' || listed === null || Object.entries(listed).some(([n, sum]) => !(CHECKPOINT_DATA_FILES as readonly string[]).includes(n) || typeof sum !== 'string')) {
    throw new MoonCheckpointError(`checkpoint ${dir} is malformed: its manifest may list only ${CHECKPOINT_DATA_FILES.join(' and ')} with their checksums`);
  }
  const expected = sizes?.(manifest, dir) ?? {};
  const files: Record<string, Buffer> = {};
  for (const [name, sum] of Object.entries(listed)) {
    files[name] = read(name, { bytes: expected[name] });
    if (sha256(files[name]) !== sum) {
      throw new MoonCheckpointError(`checkpoint ${dir} is corrupted: ${name} does not match its checksum; resume from another checkpoint`);
    }
  }
  return { dir, manifest, files };
}

/** The run of checkpoints written before checkpoints named their run. */
export const LEGACY_RUN = 'legacy';

/** The run a checkpoint folder belongs to, or undefined when it holds no readable checkpoint manifest. */
export function checkpointRun(dir: string): string | undefined {
  try {
    const manifest = parseManifest(dir, readFileInside(committedDirectory(dir), MANIFEST, { maxBytes: MAX_MANIFEST_BYTES }).toString('utf8'));
    return typeof manifest.run === 'string' ? manifest.run : LEGACY_RUN;
  } catch {
    return undefined;
  }
}

/** The `epoch-<n>` folders directly under `root`, newest first. */
function epochFolders(root: string): { name: string; epoch: number }[] {
  const { fs } = node();
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((name) => ({ name, epoch: Number(/^epoch-(\d+)$/.exec(name)?.[1] ?? NaN) }))
    .filter((c) => Number.isFinite(c.epoch))
    .sort((a, b) => b.epoch - a.epoch);
}

/** The `epoch-<n>` folders under `root` that are not checkpoints of `run` (another run's, or unreadable). */
export function foreignCheckpoints(root: string, run: string): string[] {
  const { path } = node();
  return epochFolders(root)
    .filter((c) => checkpointRun(path.join(root, c.name)) !== run)
    .map((c) => c.name);
}

/**
 * Deletes all but the newest `keep` checkpoints of `run` under `root`. Only folders that are checkpoints of this run
 * and hold nothing but checkpoint files are ever deleted; another run's are never touched.
 */
export function pruneCheckpoints(root: string, run: string, keep: number): void {
  const { fs, path } = node();
  const ours = epochFolders(root).filter((c) => {
    const dir = path.join(root, c.name);
    return checkpointRun(dir) === run && fs.lstatSync(dir).isDirectory() && fs.readdirSync(dir).every((f) => CHECKPOINT_FILES.includes(f));
  });
  for (const old of ours.slice(keep)) {
    const dir = path.join(root, old.name);
    for (const f of CHECKPOINT_FILES) fs.rmSync(path.join(dir, f), { force: true });
    fs.rmdirSync(dir);
  }
}
