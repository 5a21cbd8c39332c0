import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BUILTIN_DETECTORS } from '../src/metrics/detectors/builtin-detectors';
import type { DetectorFitData } from '../src/metrics/detectors/detector-method';

// Issue #23: every detector's scores equal a NumPy reference (test/fixtures/detectors/generate.py, OpenOOD's
// formulas) on fixed features, to 1e-4 relative.

interface Fixture {
  numClasses: number;
  train: number[][];
  labels: number[];
  test: number[][];
  kernel: number[][];
  bias: number[];
  temperature: number;
  scores: Record<string, number[]>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'detectors', 'detectors.json'), 'utf8')) as Fixture;
const K = fixture.numClasses;

function batchOf(rows: number[][], kernel: tf.Tensor2D, bias: tf.Tensor1D) {
  const features = tf.tensor2d(rows);
  const allLogits = tf.add(tf.matMul(features, kernel), bias) as tf.Tensor2D;
  return { features, allLogits, logits: allLogits.slice([0, 0], [-1, K]) as tf.Tensor2D };
}

describe(`detectors against the NumPy reference (fixed features, a sparse K + 1 head; ${process.env.TFJS_TEST_BACKEND})`, () => {
  let head: DetectorFitData['head'];
  let test: ReturnType<typeof batchOf>;
  let data: DetectorFitData;
  beforeAll(() => {
    // Made here, not at load: the backend of the project is set in the setup's beforeAll.
    const kernel = tf.tensor2d(fixture.kernel);
    const bias = tf.tensor1d(fixture.bias);
    head = { kernel: kernel.slice([0, 0], [-1, K]) as tf.Tensor2D, bias: bias.slice(0, K) as tf.Tensor1D };
    test = batchOf(fixture.test, kernel, bias);
    data = { ...batchOf(fixture.train, kernel, bias), labels: Int32Array.from(fixture.labels), head, numClasses: K, unknownAware: true };
  });

  it('the fixture covers every built-in detector', () => {
    expect(Object.keys(fixture.scores).sort()).toEqual(Object.keys(BUILTIN_DETECTORS).sort());
  });

  it.each(Object.keys(BUILTIN_DETECTORS))('%s', async (name) => {
    const method = BUILTIN_DETECTORS[name];
    const options = { ...(method.defaults as object) } as never;
    method.check?.(options, { width: fixture.train[0].length, numClasses: K });
    const state = await method.fit(data, options);
    const scores = tf.tidy(() => method.score(test, state, head, options));
    const actual = Array.from(await scores.data());
    scores.dispose();
    const expected = fixture.scores[name];
    expect(actual).toHaveLength(expected.length);
    const worst = Math.max(...expected.map((e, i) => Math.abs(actual[i] - e) / Math.max(1, Math.abs(e))));
    expect(worst).toBeLessThan(1e-4);
    if (name === 'temperature') expect(state.temperature as number).toBeCloseTo(fixture.temperature, 3);
    tf.dispose(Object.values(state).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
  });
});
