/**
 * The one way options are checked, everywhere in the library: each helper throws a typed error (MoonConfigError
 * unless told otherwise) that names the option, says what it must be and shows what it got.
 */
import { MoonConfigError, type MoonError } from './errors';

/** The error class a check throws (MoonConfigError for kit options, MoonMetricError for metrics, …). */
export type ErrorClass = new (message: string) => MoonError;

/** A value as error messages show it. */
export function describeValue(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

const suffix = (hint: string) => (hint ? `: ${hint}` : '');

/** Returns `value` if it is an integer ≥ `min`; throws otherwise. */
export function requireInteger(name: string, value: unknown, min: number, hint = '', error: ErrorClass = MoonConfigError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
    throw new error(`${name} must be ${what}, got ${describeValue(value)}${suffix(hint)}`);
  }
  return value;
}

/** Returns `value` if it is a finite number in [lo, hi) (or [lo, hi] if `closed`); throws otherwise. */
export function requireNumberIn(name: string, value: unknown, lo: number, hi: number, closed = false, hint = '', error: ErrorClass = MoonConfigError): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= lo && (closed ? value <= hi : value < hi);
  if (!ok) {
    const range = `[${lo}, ${hi}${closed ? ']' : ')'}`;
    throw new error(`${name} must be a number in ${range}, got ${describeValue(value)}${suffix(hint)}`);
  }
  return value as number;
}

/** Returns `value` if it is a finite number > 0; throws otherwise. */
export function requirePositive(name: string, value: unknown, hint = '', error: ErrorClass = MoonConfigError): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new error(`${name} must be a positive number, got ${describeValue(value)}${suffix(hint)}`);
  }
  return value;
}

/** Returns `name` if it can name a registered strategy or score: letters, digits, '_', '.' or '-', not starting with a sign. */
export function requireName(what: string, name: unknown, error: ErrorClass = MoonConfigError): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(name)) {
    throw new error(`a ${what} name must be a non-empty string of letters, digits, '_', '.' or '-' (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** Returns `value` if it is one of `choices`; throws otherwise, listing them. */
export function requireOneOf<T extends string>(name: string, value: unknown, choices: readonly T[], error: ErrorClass = MoonConfigError): T {
  if (!(choices as readonly unknown[]).includes(value)) {
    const list = choices.map((c) => `'${c}'`);
    const options = list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list[0];
    throw new error(`${name} must be ${options}, got ${describeValue(value)}`);
  }
  return value as T;
}

/**
 * Throws when `value` (an options object) has a key outside `valid`, naming the closest valid key and listing them
 * all: plain-JS callers get no type check, and a misspelt key must not be ignored.
 * @param where how the options object is called in the message
 */
export function rejectUnknownKeys(value: unknown, valid: readonly string[], where: string, error: ErrorClass = MoonConfigError): void {
  if (value === null || typeof value !== 'object') return;
  const unknown = Object.keys(value).filter((k) => !valid.includes(k));
  if (unknown.length === 0) return;
  const hints = unknown.map((k) => {
    const close = closestKey(k, valid);
    return close ? `"${k}" (did you mean "${close}"?)` : `"${k}"`;
  });
  throw new error(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${hints.join(', ')}; valid keys: ${valid.join(', ')}`);
}

/** The valid key within edit distance 2 of `key`, if any. */
function closestKey(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of valid) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
