import type * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { nodeBuiltin, type NodeBuiltins } from '../../core/node-builtins';
import { writeDirectoryAtomically } from '../atomic-directory';

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

/**
 * A TF.js IO handler for `file://dir`: `dir/model.json` (topology, weights manifest, metadata) and `dir/weights.bin`.
 * Saving is atomic ({@link writeDirectoryAtomically}): a reader sees the old model or the new one, never half of one.
 */
export function fileHandler(url: string): tf.io.IOHandler {
  const { fs, path } = nodeModules();
  const dir = url.slice(PREFIX.length);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData : new ArrayBuffer(0);
      const { weightData: _data, weightSpecs, ...rest } = artifacts;
      void _data;
      const modelJson = { ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs ?? [] }] };
      try {
        writeDirectoryAtomically(dir, { 'weights.bin': new Uint8Array(weights), 'model.json': JSON.stringify(modelJson) });
      } catch (error) {
        throw new MoonConfigError(`cannot write ${dir}: ${(error as Error).message}; nothing was written there`);
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelFile = path.join(dir, 'model.json');
      if (!fs.existsSync(modelFile)) throw new MoonConfigError(`no model at ${url}: ${modelFile} does not exist`);
      const json = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as tf.io.ModelJSON;
      const manifest = json.weightsManifest ?? [];
      const buffers = manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const total = Buffer.concat(buffers);
      const { weightsManifest: _manifest, ...rest } = json;
      void _manifest;
      return {
        ...rest,
        weightSpecs: manifest.flatMap((group) => group.weights),
        weightData: total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength),
      } as tf.io.ModelArtifacts;
    },
  };
}
