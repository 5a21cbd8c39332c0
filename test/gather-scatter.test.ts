import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../src';
import { compiledGathersServe, gatherElements, gatherRows, scatterAddElements } from '../src/plugins/sparse/gather-scatter-op';

// The project's backend: on wasm the compiled loops run on the heap, on cpu tfjs's own ops; both must agree with tfjs.
describe(`compiled gathers and scatter (${tf.getBackend()})`, () => {
  it('serve exactly where the wasm heap is reachable', () => {
    expect(compiledGathersServe()).toBe(tf.getBackend() === 'wasm');
  });

  it('gatherElements equals tf.gather of the flattened tensor, for float32 and int32, repeated and empty positions', async () => {
    const x = tf.randomNormal([30, 7], 0, 1, 'float32', 1);
    const ints = tf.range(0, 210, 1, 'int32').reshape([30, 7]);
    const positions = tf.tensor1d([0, 5, 209, 17, 5, 100], 'int32');
    expect(Array.from(await gatherElements(x, positions).data())).toEqual(Array.from(await tf.gather(x.reshape([-1]), positions).data()));
    const picked = gatherElements(ints, positions);
    expect(picked.dtype).toBe('int32');
    expect(Array.from(await picked.data())).toEqual([0, 5, 209, 17, 5, 100]);
    expect(gatherElements(x, tf.tensor1d([], 'int32')).shape).toEqual([0]);
  });

  it('scatterAddElements adds repeated positions, as tf.scatterND does', async () => {
    const positions = tf.tensor1d([3, 0, 3, 9], 'int32');
    const out = scatterAddElements(tf.tensor1d([1, 2, 4, 8]), positions, 10);
    expect(out.shape).toEqual([10]);
    expect(Array.from(await out.data())).toEqual([2, 0, 0, 5, 0, 0, 0, 0, 0, 8]);
  });

  it('gatherRows equals tf.gather along axis 0 with shape [...indices, ...rest], indices of any rank', async () => {
    const x = tf.randomNormal([12, 3, 4], 0, 1, 'float32', 2);
    const rows = tf.tensor2d([[11, 0], [4, 4]], [2, 2], 'int32');
    const out = gatherRows(x, rows);
    expect(out.shape).toEqual([2, 2, 3, 4]);
    expect(Array.from(await out.data())).toEqual(Array.from(await tf.gather(x, rows).data()));
  });

  it('an index outside the tensor throws a typed error naming it, and leaves no tensor behind', () => {
    const x = tf.randomNormal([6, 2], 0, 1, 'float32', 3);
    const bad = tf.tensor1d([1, 12], 'int32');
    const negative = tf.tensor1d([-1], 'int32');
    const before = tf.memory().numTensors;
    if (compiledGathersServe()) {
      expect(() => gatherElements(x, bad)).toThrow(new MoonConfigError('gatherElements: the index value 12 (at position 1) is not in [0, 11]; indices must address the tensor they gather from'));
      expect(() => scatterAddElements(tf.tensor1d([1]), tf.tensor1d([10], 'int32'), 10)).toThrow(/scatterAddElements: the index value 10 \(at position 0\) is not in \[0, 9\]/);
      expect(() => gatherRows(x, negative)).toThrow(/gatherRows: the index value -1 \(at position 0\) is not in \[0, 5\]/);
      expect(tf.memory().numTensors).toBe(before + 2); // the two tensors made inside the scatter call's arguments
    } else {
      expect(() => gatherElements(x, bad)).toThrow(); // tfjs's own check on cpu
      expect(() => gatherRows(x, negative)).toThrow();
    }
  });

  it('rejects positions that are not int32 and values of another length', () => {
    const x = tf.zeros([4]);
    expect(() => gatherElements(x, tf.tensor1d([1]) as tf.Tensor1D)).toThrow(/positions must be int32, got float32/);
    expect(() => scatterAddElements(tf.tensor1d([1, 2]), tf.tensor1d([1], 'int32'), 4)).toThrow(/of one length/);
  });
});
