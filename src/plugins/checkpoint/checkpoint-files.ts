import { MoonCheckpointError } from '../../core/errors';
import { BROWSER_STORAGE, nodeBuiltin } from '../../core/node-builtins';
import { writeDirectoryAtomically } from '../atomic-directory';

/** The checkpoint format's name and version; a newer version fails to load with a typed error. */
export const CHECKPOINT_FORMAT = 'tfjs-moon-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** The manifest's own checksum lives beside it, so a damaged manifest is caught too. */
const MANIFEST = 'manifest.json';
const MANIFEST_SUM = 'manifest.json.sha256';

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

/** The newest complete checkpoint under `dir` (itself, or its newest subdirectory with a manifest). */
export function resolveCheckpointDir(dir: string): string {
  const { fs, path } = node();
  if (fs.existsSync(path.join(dir, MANIFEST))) return dir;
  const candidates = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((d) => !d.includes('.tmp-') && !d.includes('.old-') && fs.existsSync(path.join(dir, d, MANIFEST)))
    : [];
  if (candidates.length === 0) throw new MoonCheckpointError(`no checkpoint at ${dir}: expected ${MANIFEST} there or in a subdirectory`);
  const newest = candidates
    .map((d) => ({ d, time: fs.statSync(path.join(dir, d, MANIFEST)).mtimeMs, epoch: Number(/(\d+)$/.exec(d)?.[1] ?? -1) }))
    .sort((a, b) => b.epoch - a.epoch || b.time - a.time)[0].d;
  return path.join(dir, newest);
}

/** Reads a checkpoint and verifies its format, version and every checksum; throws a typed error otherwise. */
export function readCheckpointFiles(where: string): CheckpointFiles {
  const dir = resolveCheckpointDir(where);
  const { fs, path } = node();
  const read = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, name));
    } catch (error) {
      throw new MoonCheckpointError(`checkpoint ${dir} is incomplete: ${name} cannot be read (${(error as Error).message})`);
    }
  };
  const manifestText = read(MANIFEST).toString('utf8');
  if (sha256(manifestText) !== read(MANIFEST_SUM).toString('utf8').trim()) {
    throw new MoonCheckpointError(`checkpoint ${dir} is corrupted: ${MANIFEST} does not match its checksum; resume from another checkpoint`);
  }
  const manifest = JSON.parse(manifestText) as CheckpointFiles['manifest'];
  if (manifest.format !== CHECKPOINT_FORMAT) throw new MoonCheckpointError(`${dir} is not a tfjs-moon checkpoint (format ${JSON.stringify(manifest.format)})`);
  if (manifest.version > CHECKPOINT_VERSION) {
    throw new MoonCheckpointError(`checkpoint ${dir} has format version ${manifest.version}, newer than this tfjs-moon reads (${CHECKPOINT_VERSION}): upgrade tfjs-moon`);
  }
  const files: Record<string, Buffer> = {};
  for (const [name, sum] of Object.entries(manifest.files)) {
    files[name] = read(name);
    if (sha256(files[name]) !== sum) {
      throw new MoonCheckpointError(`checkpoint ${dir} is corrupted: ${name} does not match its checksum; resume from another checkpoint`);
    }
  }
  return { dir, manifest, files };
}
