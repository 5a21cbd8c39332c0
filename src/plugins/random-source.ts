/**
 * The random source of a kit. One per kit, seeded, so that the same seed gives the same masks and the same growth.
 * Register your own under `TOKENS.RandomSource` in the container you pass to `createMoon` to replace it.
 */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, 2^32). */
  nextUint32(): number;
  /** The generator's full state, for checkpoints. */
  getState(): number[];
  /** Restores a state returned by {@link getState}. */
  setState(state: readonly number[]): void;
}

/**
 * The default {@link RandomSource}: sfc32 (a small, fast generator that passes PractRand), seeded through
 * splitmix32 so that nearby seeds give unrelated streams.
 */
export class SeededRandom implements RandomSource {
  private s: Uint32Array = new Uint32Array(4);

  /** @param seed any finite number; its low 32 bits are used. */
  constructor(seed: number) {
    let x = seed >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix();
    for (let i = 0; i < 12; i++) this.nextUint32(); // discard the warm-up outputs, as sfc32's authors advise
  }

  nextUint32(): number {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Fisher–Yates from the last position down, drawing j = ⌊next() · (i + 1)⌋ as {@link randomPermutation} does, with
   * the generator inlined: the same order and the same state after it as the generic loop, about 5× faster (a tie
   * order of a 4096² kernel took 1.5 s through the interface).
   */
  shuffleInPlace(order: Int32Array): void {
    let [a, b, c, d] = this.s;
    for (let i = order.length - 1; i > 0; i--) {
      const t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = ((c << 21) | (c >>> 11)) >>> 0;
      c = (c + t) >>> 0;
      const j = Math.floor((t / 4294967296) * (i + 1));
      const swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    this.s = Uint32Array.of(a, b, c, d);
  }

  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4) throw new RangeError(`SeededRandom state must hold 4 numbers, got ${state.length}`);
    this.s = Uint32Array.from(state);
  }
}

/**
 * The integers 0 … n−1 in a seeded random order: a Fisher–Yates shuffle from the last position down, drawn on the
 * host, so the same seed gives the same order on every backend (training-set orders, tie orders, data splits).
 */
export function randomPermutation(n: number, random: RandomSource): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`a permutation needs a length that is an integer ≥ 0, got ${n}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (random instanceof SeededRandom && Object.getPrototypeOf(random) === SeededRandom.prototype) {
    // a subclass may draw otherwise: it takes the generic loop
    random.shuffleInPlace(order);
    return order;
  }
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Picks `count` distinct integers from [0, n) uniformly at random (partial Fisher–Yates).
 * @returns the chosen indices, in the order drawn.
 */
export function sampleWithoutReplacement(n: number, count: number, random: RandomSource): Int32Array {
  if (!Number.isInteger(count) || count < 0 || count > n) {
    throw new RangeError(`cannot draw ${count} distinct items from ${n}`);
  }
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random.next() * (n - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, count);
}
