import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import { nodeBuiltin, type NodeBuiltins } from '../../core/node-builtins';
import { committedDirectory, ForeignFilesError, writeDirectoryAtomically } from '../atomic-directory';
import { fileSizeInside, MAX_MANIFEST_BYTES, readFileInside, UnsafeFileError } from '../folder-reads';
import { checkWeightsManifest } from './manifest-check';

const PREFIX = 'file://';

/** Whether `url` names a directory on disk (`file://dir`). */
export function isFileUrl(url: string): boolean {
  return url.startsWith(PREFIX);
}

/** Node's fs and path, or a clear error in a browser. */
function nodeModules(): { fs: NodeBuiltins['fs']; path: NodeBuiltins['path'] } {
  const alternative = 'in a browser pass indexeddb://, localstorage:// or a tf.io handler';
  return { fs: nodeBuiltin('fs', 'file:// paths', alternative), path: nodeBuiltin('path', 'file:// paths', alternative) };
}

/** The files an export writes: anything else in the folder is the user's, and the folder is refused. */
export const EXPORT_FILES = ['model.json', 'weights.bin'] as const;

/**
 * A TF.js IO handler for `file://dir`: `dir/model.json` (topology, weights manifest, metadata) and `dir/weights.bin`.
 * Saving is atomic and crash-safe ({@link writeDirectoryAtomically}) and refuses a folder holding other files.
 * Loading reads any TF.js layers-model folder (sharded weights included) as a stranger's: every path in the
 * manifest must be a regular file inside the folder, of the size the manifest implies, checked before it is read.
 */
export function fileHandler(url: string): tf.io.IOHandler {
  nodeModules();
  const dir = url.slice(PREFIX.length);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      // TF.js hands the weights as one buffer or as several (WeightData): join them, never drop them.
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const { weightData: _data, weightSpecs, ...rest } = artifacts;
      void _data;
      const modelJson = { ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs ?? [] }] };
      try {
        writeDirectoryAtomically(dir, { 'weights.bin': new Uint8Array(weights), 'model.json': JSON.stringify(modelJson) });
      } catch (error) {
        if (error instanceof ForeignFilesError) throw new MoonConfigError(`cannot export to ${dir}: ${error.message}; nothing was written`);
        throw new MoonConfigError(`cannot write ${dir}: ${(error as Error).message}; nothing was written there`);
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      return loadFolder(url, committedDirectory(dir));
    },
  };
}

/**
 * A `file://` IO handler for Node without tfjs-node (which cannot always be installed): `@tensorflow/tfjs` alone
 * has none. `tf.loadLayersModel(fileSystem('file://model'))` reads any TF.js layers model folder (a `model.json`
 * and its weight shards, as `model.save` and the Python converter write them), checking every file before it is
 * read (paths stay inside the folder, sizes match the manifest); `model.save(fileSystem('file://out'))` writes
 * `model.json` + `weights.bin` atomically and refuses a folder that holds other files. A plain path works too.
 * @example const model = await tf.loadLayersModel(fileSystem('file://./pretrained'));
 */
export function fileSystem(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.length === 0) throw new MoonConfigError('fileSystem expects a folder, e.g. fileSystem(\'file://./model\')');
  return fileHandler(isFileUrl(path) ? path : `${PREFIX}${path}`);
}

/** Reads and checks a layers-model folder (see {@link fileHandler}). */
function loadFolder(url: string, dir: string): tf.io.ModelArtifacts {
  const { fs, path } = nodeModules();
  if (!fs.existsSync(path.join(dir, 'model.json'))) throw new MoonConfigError(`no model at ${url}: ${path.join(dir, 'model.json')} does not exist`);
  const refuse = (problem: string): never => {
    throw new MoonModelError(`the model at ${url} is malformed: ${problem}. Nothing was loaded; re-save it, or check where the file came from`);
  };
  const safely = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      if (error instanceof UnsafeFileError) return refuse(error.message);
      throw error;
    }
  };
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(safely(() => readFileInside(dir, 'model.json', { maxBytes: MAX_MANIFEST_BYTES })).toString('utf8')) as tf.io.ModelJSON;
  } catch (error) {
    if (error instanceof SyntaxError) return refuse(`model.json is not JSON (${error.message})`);
    throw error;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return refuse('model.json is not a JSON object');
  const groups = safely(() => checkWeightsManifest(json.weightsManifest));
  // Every file's size is known before any is read: the manifest's bytes per group, split over its shards.
  const sizes = groups.map((g) => safely(() => g.paths.map((p) => fileSizeInside(dir, p))));
  groups.forEach((g, i) => {
    const total = sizes[i].reduce((s, n) => s + n, 0);
    if (total !== g.bytes) refuse(`the weight files ${g.paths.map((p) => JSON.stringify(p)).join(', ')} hold ${total} bytes, their manifest describes ${g.bytes}`);
  });
  const buffers = groups.flatMap((g, i) => g.paths.map((p, k) => safely(() => readFileInside(dir, p, { bytes: sizes[i][k] }))));
  const total = Buffer.concat(buffers);
  const { weightsManifest: _manifest, ...rest } = json;
  void _manifest;
  return {
    ...rest,
    weightSpecs: groups.flatMap((g) => g.weights),
    weightData: total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength),
  } as tf.io.ModelArtifacts;
}
