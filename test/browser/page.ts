// The browser test's page: trains the shared scenario on webgl and leaves the result for the test to read.
import * as tf from '@tensorflow/tfjs';
import * as moon from 'tfjs-moon';
import { trainScenario } from './scenario';

/** Where the test reads the result (`window.scenario` in the page). */
const scenario = (async () => {
  if (!(await tf.setBackend('webgl'))) throw new Error('webgl is not available in this browser');
  return trainScenario(tf, moon, 'indexeddb://tfjs-moon-browser-test');
})();
(globalThis as unknown as { scenario: Promise<unknown> }).scenario = scenario;

/** What a Node-only feature does in a browser: a typed error that names the browser alternative. */
// After the scenario, whose tensor counts must not see this kit's.
(globalThis as unknown as { nodeOnly: Promise<unknown> }).nodeOnly = scenario.then(async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 4, activation: 'softmax' })] });
  const kit = moon.createMoon({ model, numClasses: 3, epochs: 2, stepsPerEpoch: 1, seed: 1 });
  try {
    await kit.checkpoint('checkpoints/run');
    return { threw: false };
  } catch (error) {
    return { threw: true, name: (error as Error).name, isMoonError: error instanceof moon.MoonConfigError, message: (error as Error).message };
  } finally {
    kit.dispose();
    model.dispose();
  }
});
