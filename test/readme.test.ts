import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { trainMoon } from '../examples/quickstart';
import { mnistSubset } from './helpers/data';

const root = path.join(__dirname, '..');

describe('the README', () => {
  it('shows exactly the usage code of examples/quickstart.ts', () => {
    const source = fs.readFileSync(path.join(root, 'examples/quickstart.ts'), 'utf8');
    const region = source.split('// #region usage\n')[1].split('// #endregion usage')[0].trim();
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain(region);
  });

  it('starts with the install-and-run and install-and-test commands that package.json defines', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const firstBlock = readme.split('```')[1];
    expect(firstBlock).toContain('npm install && npm run demo');
    expect(firstBlock).toContain('npm install && npm test');
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  it('usage example trains a 90%-sparse unknown-aware model on real digits and prints its OOD metrics', async () => {
    const { xs: all, ys, labels } = mnistSubset(30);
    const xs = all.slice(0, 200) as tf.Tensor2D;
    const xTest = all.slice(200, 100) as tf.Tensor2D; // held out
    const xOod = tf.randomUniform([30, 784], 0, 1, 'float32', 1) as tf.Tensor2D;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const table = jest.spyOn(console, 'table').mockImplementation(() => undefined);
    const { model, kit } = await trainMoon({ xs, ids: labels.slice(0, 200) }, xTest, xOod, 10, 3);
    expect(table).toHaveBeenCalledTimes(1); // the per-layer density table
    const printed = log.mock.calls.map((c) => c[0]);
    expect(printed.filter((p) => typeof p === 'string' && p.startsWith('epoch ')).length).toBe(2); // α at epochs 1 and 2
    expect(Object.keys(printed.find((p) => typeof p === 'object') ?? {})).toEqual(['auroc', 'auprIn', 'auprOut', 'fpr95']);
    expect(model.outputs[0].shape).toEqual([null, 11]);
    log.mockRestore();
    table.mockRestore();
    const total = kit.masks.reduce((s, m) => s + m.total, 0);
    expect(kit.masks.reduce((s, m) => s + m.active, 0)).toBe(Math.round(0.1 * total));
    tf.dispose([all, xs, ys, xTest, xOod]);
    kit.dispose();
    model.dispose();
  });
});
