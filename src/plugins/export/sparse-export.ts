import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import { checkEncodedWeights, decodeWeights, encodedBytes, encodeWeights, joinWeights, splitWeights, SPARSE_FORMAT_VERSION, SPARSE_METADATA_KEY, type EncodedWeight, type WeightSpec } from './sparse-codec';
import { nodeBuiltin } from '../../core/node-builtins';
import { fileHandler, isFileUrl } from './file-handler';
import { requireOneOf } from '../../core/validate';
import { checkWeightsManifest } from './manifest-check';
import { UnsafeFileError } from '../folder-reads';
import { convertDenseLayers, KERNEL_CHOICES, type KernelChoice } from '../sparse/sparse-conversion';
import { compileSparseKernels } from '../sparse/kernel-module';
import { checkSparseDenseLayers } from '../sparse/sparse-dense-layer'; // also registers SparseDense with tf.serialization
import { installChainPredict } from '../sparse/chain-predict';

/** What the compact artifacts carry in `userDefinedMetadata`. */
interface SparseMetadata {
  version: number;
  weights: EncodedWeight[];
}

/** The model's artifacts (topology, weight specs, weight data), as `model.save` hands them to a handler. */
async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}

const joined = (data: tf.io.WeightData | undefined): ArrayBuffer =>
  data === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(data);

/** The IO handler for a destination or source: `file://dir` in Node, any TF.js URL scheme, or a handler. */
function handlerFor(target: string | tf.io.IOHandler, forSaving: boolean): tf.io.IOHandler {
  if (typeof target !== 'string') return target;
  if (isFileUrl(target)) return fileHandler(target);
  const handlers = forSaving ? tf.io.getSaveHandlers(target) : tf.io.getLoadHandlers(target);
  if (handlers.length === 0) {
    throw new MoonConfigError(`no TF.js IO handler for ${JSON.stringify(target)}: use file://dir (Node), indexeddb://, localstorage://, or pass a tf.io handler`);
  }
  return handlers[0];
}

/**
 * Saves `model` in the TF.js artifact layout (model.json + weights) with every float32 weight stored in its
 * smallest form: dense, a bitmask of its nonzeros + their values, or indices + values. `loadSparse` restores an
 * ordinary LayersModel with the same weights. The encoding is described in `userDefinedMetadata`, so any TF.js IO
 * handler carries it (`file://dir` is written by this library, atomically, since TF.js has no Node file handler
 * without tfjs-node).
 */
export async function exportSparse(model: tf.LayersModel, destination: string | tf.io.IOHandler): Promise<tf.io.SaveResult> {
  if (!(model instanceof tf.LayersModel)) throw new MoonModelError('exportSparse takes a tf.LayersModel');
  const handler = handlerFor(destination, true);
  if (handler.save === undefined) throw new MoonConfigError('the destination handler cannot save (it has no save method)');
  const artifacts = await captureArtifacts(model);
  const encoded = encodeWeights((artifacts.weightSpecs ?? []) as WeightSpec[], joined(artifacts.weightData));
  const metadata: SparseMetadata = { version: SPARSE_FORMAT_VERSION, weights: encoded.weights };
  return handler.save({
    ...artifacts,
    weightSpecs: encoded.specs as tf.io.WeightsManifestEntry[],
    weightData: encoded.data,
    generatedBy: `tfjs-moon exportSparse (format ${SPARSE_FORMAT_VERSION}), ${artifacts.generatedBy ?? 'TensorFlow.js'}`,
    userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), [SPARSE_METADATA_KEY]: metadata as unknown as Record<string, unknown> },
  });
}

/**
 * Runs a TF.js model build that may fail part-way; on failure frees the variables it had registered (TF.js's
 * deserialization leaves the layers built before the bad one holding theirs) and rethrows.
 */
async function freeingOnFailure<T>(build: () => Promise<T>): Promise<T> {
  const registered = () => (tf.engine().state as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables;
  const before = new Set(Object.keys(registered()));
  try {
    return await build();
  } catch (error) {
    for (const [name, variable] of Object.entries(registered())) if (!before.has(name)) variable.dispose();
    throw error;
  }
}

/** The stored weight specs, checked (names, shapes, dtypes) and sized. */
function storedSpecs(specs: unknown, what: string, fix: string): { bytes: number }[] {
  try {
    return checkWeightsManifest([{ paths: [], weights: specs ?? [] }]);
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new MoonModelError(`the ${what}'s weight specs are malformed: ${error.message}; ${fix}`);
    throw error;
  }
}

/**
 * The names (as saved) and shapes of the weights a topology builds, so that a compact description can be checked
 * before anything is allocated from it. Builds the model once (the size the topology itself declares) and frees it.
 */
async function topologyWeights(topology: unknown, what = 'compact model', hint = 'the file is damaged or was not written by exportSparse'): Promise<{ name: string; shape: number[] }[]> {
  let skeleton: tf.LayersModel;
  try {
    skeleton = await freeingOnFailure(() => tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON as never));
  } catch (error) {
    throw new MoonModelError(`the ${what}'s topology cannot be built (${(error as Error).message}): ${hint}`);
  }
  const weights = skeleton.weights.map((w) => ({ name: (w as unknown as { originalName: string }).originalName, shape: w.shape.slice() as number[] }));
  skeleton.dispose();
  return weights;
}

/** The weights of artifacts exportSparse wrote: the compact description checked against the topology, then decoded. */
async function decodedWeights(artifacts: tf.io.ModelArtifacts, metadata: SparseMetadata): Promise<{ specs: WeightSpec[]; data: ArrayBuffer }> {
  if (typeof metadata !== 'object' || metadata === null || !Number.isInteger(metadata.version) || metadata.version < 1) {
    throw new MoonModelError('the compact model\'s tfjsMoonSparse metadata is malformed (no integer version): re-export it with exportSparse');
  }
  if (metadata.version > SPARSE_FORMAT_VERSION) {
    throw new MoonConfigError(`the compact model is format ${metadata.version}, newer than this tfjs-moon reads (${SPARSE_FORMAT_VERSION}): upgrade tfjs-moon`);
  }
  const weightData = checkedWeightData(artifacts, 'compact model', 're-export it with exportSparse');
  const described = checkEncodedWeights(metadata.weights, weightData.byteLength, await topologyWeights(artifacts.modelTopology));
  return decodeWeights(described, weightData);
}

/**
 * The weights of plain TF.js artifacts (`model.save`, the converter), as they are. Converting Dense layers to
 * SparseDense reads float32 values: quantized or float16 weights load only with `kernels: 'dense'`.
 */
async function plainWeights(artifacts: tf.io.ModelArtifacts, kernels: KernelChoice): Promise<{ specs: WeightSpec[]; data: ArrayBuffer }> {
  const data = checkedWeightData(artifacts, 'model', 're-save it');
  const specs = (artifacts.weightSpecs ?? []) as (tf.io.WeightsManifestEntry & WeightSpec)[];
  checkPlainSpecs(specs, await topologyWeights(artifacts.modelTopology, 'model', 'the file is damaged, or needs a custom layer you have not registered'));
  const quantized = specs.find((s) => s.quantization !== undefined);
  if (kernels !== 'dense' && quantized !== undefined) {
    throw new MoonConfigError(
      `loadSparse with kernels '${kernels}' reads float32 weights, and weight "${quantized.name}" is stored quantized (${quantized.quantization!.dtype}): ` +
        "load it with kernels: 'dense'",
    );
  }
  return { specs, data };
}

/** The saved layer weights must be the topology's, with its shapes (optimizer weights aside): checked before loading. */
function checkPlainSpecs(specs: readonly (tf.io.WeightsManifestEntry & WeightSpec)[], expected: readonly { name: string; shape: number[] }[]): void {
  const saved = new Map(specs.filter((s) => s.group !== 'optimizer').map((s) => [s.name, s.shape]));
  const refuse = (problem: string): never => {
    throw new MoonModelError(`the model's weights do not match its topology: ${problem}. Nothing was loaded; re-save it, or check where the file came from`);
  };
  for (const { name, shape } of expected) {
    const stored = saved.get(name);
    if (stored === undefined) refuse(`the topology has weight "${name}", the weights manifest does not`);
    else if (stored.length !== shape.length || stored.some((d, i) => d !== shape[i])) refuse(`weight "${name}" is [${stored.join(', ')}] in the manifest, [${shape.join(', ')}] in the topology`);
    saved.delete(name);
  }
  const extra = [...saved.keys()];
  if (extra.length > 0) refuse(`the weights manifest has weight "${extra[0]}", which no layer of the topology holds`);
}

/** The artifacts' weight bytes, one buffer, of the size their specs describe. */
function checkedWeightData(artifacts: tf.io.ModelArtifacts, what: string, fix: string): ArrayBuffer {
  const weightData = joined(artifacts.weightData);
  const stored = storedSpecs(artifacts.weightSpecs, what, fix);
  if (stored[0].bytes !== weightData.byteLength) {
    throw new MoonModelError(`the ${what}'s weight specs describe ${stored[0].bytes} bytes, its weight data holds ${weightData.byteLength}: the file is damaged`);
  }
  return weightData;
}

/** Options of {@link loadSparse}. */
export interface LoadSparseOptions {
  /**
   * How Dense layers run. 'dense' (default): as saved, an ordinary model whose kernels hold zeros (the one to
   * fine-tune). 'sparse': every Dense layer whose kernel holds zeros becomes a `SparseDense` layer, which runs the
   * compiled sparse kernels on cpu and wasm. 'auto': only those that predict faster sparse on this machine, at batch 1 and 32,
   * by a short measurement of the layer's shape at first use (cached for the process; none on webgl/webgpu, none
   * above the backend's `SPARSE_CROSSOVER_DENSITY`).
   */
  kernels?: KernelChoice;
}

/**
 * Loads what {@link exportSparse} saved, or any plain TF.js layers model (`model.save`, the Python converter): a
 * `tf.LayersModel` with the original weights, whose sparse Dense layers run as `SparseDense` layers if
 * `options.kernels` asks for it (predictions equal to float32 rounding). `file://dir` works in Node without
 * tfjs-node, and every file is checked before it is read.
 */
export async function loadSparse(source: string | tf.io.IOHandler, options: LoadSparseOptions = {}): Promise<tf.LayersModel> {
  const kernels = requireOneOf('loadSparse options.kernels', options.kernels ?? 'dense', KERNEL_CHOICES);
  const handler = handlerFor(source, false);
  if (handler.load === undefined) throw new MoonConfigError('the source handler cannot load (it has no load method)');
  const artifacts = await handler.load();
  const metadata = artifacts.userDefinedMetadata?.[SPARSE_METADATA_KEY] as unknown as SparseMetadata | undefined;
  const weights = metadata === undefined ? await plainWeights(artifacts, kernels) : await decodedWeights(artifacts, metadata);
  const { [SPARSE_METADATA_KEY]: _dropped, ...otherMetadata } = artifacts.userDefinedMetadata ?? {};
  void _dropped;
  let { specs, data } = weights;
  let { modelTopology, trainingConfig } = artifacts;
  if (kernels !== 'dense') {
    modelTopology = JSON.parse(JSON.stringify(modelTopology)) as typeof modelTopology; // the topology is JSON; converted in a copy
    // SparseDense layers are for inference: a saved optimizer's state (includeOptimizer) is left out.
    const layerWeights = splitWeights(specs, data).filter((w) => (w as { group?: string }).group !== 'optimizer');
    trainingConfig = undefined;
    await compileSparseKernels(); // before converting: 'auto' times the kernels on this machine
    const { weights: converted } = convertDenseLayers(modelTopology, layerWeights, kernels, tf.getBackend());
    ({ specs, data } = joinWeights(converted));
  }
  const model = await freeingOnFailure(() =>
    tf.loadLayersModel(
      tf.io.fromMemory({ ...artifacts, modelTopology, trainingConfig, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: data, userDefinedMetadata: otherMetadata }),
    ),
  );
  try {
    await checkSparseDenseLayers(model); // a SparseDense layer saved as such is refused here, before anything runs
  } catch (error) {
    model.dispose();
    throw error;
  }
  installChainPredict(model);
  return model;
}

/** What {@link sizeReport} returns (bytes). */
export interface SizeReport {
  /** The weights stored densely (float32). */
  denseBytes: number;
  /** gzip of the dense weights (Node's zlib; undefined where zlib is not available). */
  gzipBytes: number | undefined;
  /** The weights as `exportSparse` stores them. */
  compactBytes: number;
  /** compactBytes / denseBytes. */
  ratio: number;
}

/** Sizes of a model's weights: dense, gzipped dense, and compact as `exportSparse` writes them. */
export async function sizeReport(model: tf.LayersModel): Promise<SizeReport> {
  const artifacts = await captureArtifacts(model);
  const data = joined(artifacts.weightData);
  const encoded = encodeWeights((artifacts.weightSpecs ?? []) as WeightSpec[], data);
  let gzipBytes: number | undefined;
  try {
    gzipBytes = nodeBuiltin('zlib', 'gzip', '').gzipSync(new Uint8Array(data)).byteLength;
  } catch {
    gzipBytes = undefined; // a browser build without zlib
  }
  const compactBytes = encoded.weights.reduce((s, w) => s + encodedBytes(w.encoding, tf.util.sizeFromShape(w.shape), w.nonzero), 0);
  return { denseBytes: data.byteLength, gzipBytes, compactBytes, ratio: compactBytes / data.byteLength };
}
