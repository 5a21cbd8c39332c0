import { RUN_DEFAULTS, type RunConfig } from './run-config';

/**
 * What a run recorded before a field existed meant by its absence: results written before the optimizer, weight
 * decay and shuffling became part of the config trained with momentum 0.9, no decay and one order.
 */
const LEGACY_FIELDS: Pick<RunConfig, 'optimizer' | 'weightDecay' | 'shuffle' | 'lossVariant' | 'kernels' | 'head'> = {
  optimizer: 'momentum', weightDecay: 0, shuffle: 'once', lossVariant: 'released', kernels: 'dense', head: 'softmax',
};

/** A recorded config with the fields it predates filled in as they were then (see {@link LEGACY_FIELDS}). */
export function normalizeConfig(config: RunConfig): RunConfig {
  return { ...LEGACY_FIELDS, ...config };
}

/** JSON with object keys sorted, so equal options give equal text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** FNV-1a of a string, 6 hex digits: a short tag for a long value (kit options, a path). */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').slice(0, 6);
}

/**
 * Every field of a config but the seed, as short tags, in a fixed order. The main fields are always named; the
 * others only where they differ from the run defaults, so that two configs that differ in any field never share
 * a tag list (a bench never merges or drops configurations).
 */
function configTags(config: RunConfig): string[] {
  const c = normalizeConfig(config);
  const tags = [c.dataset, c.model, c.method, c.method === 'dense' ? 'dense' : `s${c.sparsity}`, c.moon ? 'moon' : 'base'];
  if (c.fromModel !== undefined) tags.push(`finetuned-${shortHash(c.fromModel)}`);
  if (c.variant) tags.push(c.variant);
  tags.push(`e${c.epochs}`);
  const optional: Array<[keyof RunConfig, string]> = [
    ['preset', 'preset-'], ['learningRate', 'lr'], ['batchSize', 'bs'], ['optimizer', 'opt-'], ['weightDecay', 'wd'], ['shuffle', 'shuffle-'], ['lossVariant', 'loss-'], ['kernels', 'kernels-'], ['head', 'head-'],
  ];
  for (const [key, prefix] of optional) {
    if (c[key] !== RUN_DEFAULTS[key as keyof typeof RUN_DEFAULTS]) tags.push(`${prefix}${String(c[key])}`);
  }
  if (c.trainLimit !== undefined) tags.push(`train${c.trainLimit}`);
  if (c.testLimit !== undefined) tags.push(`test${c.testLimit}`);
  if (c.dataDir !== undefined) tags.push(`data-${shortHash(c.dataDir)}`);
  if (c.kit !== undefined) tags.push(`kit-${shortHash(stableJson(c.kit))}`);
  if (c.detectors !== undefined) tags.push(['all', 'recommended'].includes(c.detectors) ? `det-${c.detectors}` : `det-${shortHash(c.detectors)}`);
  return tags;
}

/** A short, stable name for a run: every field of its config (defaults left out) and its seed. */
export function runId(config: RunConfig): string {
  return `${configTags(config).join('_')}_seed${config.seed}`;
}

/** The key of the runs that differ only by seed: every field of the config but the seed. */
export function groupKey(config: RunConfig): string {
  return configTags(config).join('|');
}

/** The fields a report's label shows beyond model, method, sparsity, MOON and epochs: the non-default ones. */
export function extraTags(config: RunConfig): string[] {
  const tags = configTags(config);
  const epochsAt = tags.findIndex((t) => /^e\d+$/.test(t));
  return tags.slice(epochsAt + 1);
}
