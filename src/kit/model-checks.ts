import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../core/errors';
import type { OutputKind } from '../core/types';
import { requireOneOf } from '../core/validate';
import type { MoonOptions, ResolvedMaskOptions } from '../config/options';
import { findMaskableKernels, type MaskableKernel } from '../core/maskable-kernels';
import { BUILTIN_MASKABLE_LAYERS, type MaskableLayerLookup } from '../core/maskable-layers';
import { detectOutputKind, outputWidth, resolveOutputIndex } from '../plugins/moon/output-kind';

/** What the kit learns from checking the model against the options: the kernels it masks and the classifier output. */
export interface CheckedModel {
  /** The weights the kit masks. */
  readonly kernels: MaskableKernel[];
  /** Every maskable weight found, those kept dense included. */
  readonly maskable: MaskableKernel[];
  readonly output: { readonly kind: OutputKind; readonly index: number };
}

/**
 * Checks that `model` can be trained by a kit with these settings — it has maskable layers, `denseLayers` names
 * exist and leave one to mask, the classifier output has K (plain) or K + 1 (unknown-aware) units, its kind is
 * known — and returns the masked kernels and the output. Touches nothing.
 */
export function checkModel(
  model: tf.LayersModel,
  options: MoonOptions,
  mask: ResolvedMaskOptions,
  numClasses: number,
  unknownAware: boolean,
  lookup: MaskableLayerLookup,
): CheckedModel {
  rejectSparseDenseLayers(model);
  const all = findMaskableKernels(model, lookup);
  if (all.length === 0) {
    throw new MoonModelError(
      `the model has no maskable layer: tfjs-moon masks the weights of ${Object.keys(BUILTIN_MASKABLE_LAYERS).join(', ')} layers ` +
        '(nested models and Bidirectional/TimeDistributed wrappers included); register a custom layer with registerMaskableLayer, ' +
        'add a maskable layer, or train this model without a kit',
    );
  }
  const kernels = selectMaskedKernels(all, mask);
  if (kernels.length === 0) {
    const frozen = mask.frozenLayers === 'dense' && all.some((k) => !k.trainable);
    throw new MoonConfigError(
      frozen
        ? 'every maskable weight is frozen (trainable = false) or kept dense by mask.denseLayers / firstLayerDense: unfreeze a layer, or pass mask: { frozenLayers: \'mask\' }'
        : 'mask.denseLayers / firstLayerDense keep every maskable layer dense: leave at least one layer to mask',
    );
  }
  const index = resolveOutputIndex(model, options.output);
  checkOutputWidth(model, index, numClasses, unknownAware);
  if (options.from !== undefined) requireOneOf('from', options.from, ['probabilities', 'logits'] as const);
  return { kernels, maskable: all, output: { kind: options.from ?? detectOutputKind(model, index), index } };
}

/** The names of SparseDense layers in `model`, nested models included. */
function sparseDenseLayerNames(model: { layers: readonly tf.layers.Layer[] }): string[] {
  return model.layers.flatMap((layer) => {
    const nested = (layer as unknown as { layers?: readonly tf.layers.Layer[] }).layers;
    if (Array.isArray(nested)) return sparseDenseLayerNames({ layers: nested });
    return layer.getClassName() === 'SparseDense' ? [layer.name] : [];
  });
}

/** A model loaded for fast inference (SparseDense layers) cannot be trained by a kit: its kernels are not masks. */
function rejectSparseDenseLayers(model: tf.LayersModel): void {
  const names = sparseDenseLayerNames(model);
  if (names.length > 0) {
    throw new MoonModelError(
      `the model has SparseDense layers (${names.map((n) => `"${n}"`).join(', ')}), made for inference by loadSparse(…, { kernels }): ` +
        "load it with loadSparse(source) (kernels 'dense', the default) to train it with a kit",
    );
  }
}

/**
 * Applies `frozenLayers`, `denseLayers` and `firstLayerDense` (which keeps every weight of the first maskable layer
 * dense), failing on names that match no maskable layer.
 */
function selectMaskedKernels(all: readonly MaskableKernel[], mask: ResolvedMaskOptions): MaskableKernel[] {
  const dense = mask.denseLayers;
  if (Array.isArray(dense)) {
    const known = new Set(all.map((k) => k.layerName));
    const unknown = dense.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new MoonConfigError(
        `mask.denseLayers names ${unknown.map((n) => `"${n}"`).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not a ` +
          `maskable layer of this model; maskable layers: ${[...known].map((n) => `"${n}"`).join(', ')}`,
      );
    }
  }
  const firstLayer = all[0].layerName;
  return all.filter((k, index) => {
    if (!k.trainable && mask.frozenLayers === 'dense') return false;
    if (mask.firstLayerDense && k.layerName === firstLayer) return false;
    if (typeof dense === 'function') return !dense({ name: k.layerName, className: k.className, weight: k.weightName, trainable: k.trainable, shape: k.shape, index });
    return !(dense ?? []).includes(k.layerName);
  });
}

/** The classifier output must have K units (plain kit) or K + 1 (unknown-aware), where its width is known. */
function checkOutputWidth(model: tf.LayersModel, output: number, numClasses: number, unknownAware: boolean): void {
  const width = outputWidth(model, output);
  const expected = unknownAware ? numClasses + 1 : numClasses;
  if (width === undefined || width === expected) return;
  throw new MoonModelError(
    unknownAware
      ? `model has ${width} outputs but numClasses is ${numClasses}: an unknown-aware kit needs numClasses + 1 = ${expected} ` +
          `outputs; add one unit to the last layer (addUnknownHead(model) does it) or pass unknownAware: false`
      : `model has ${width} outputs but numClasses is ${numClasses}: a plain sparse kit (unknownAware: false) needs ` +
          `numClasses outputs; pass numClasses: ${width} or change the last layer to ${numClasses} units`,
  );
}
