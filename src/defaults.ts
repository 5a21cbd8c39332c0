import { ErdosRenyiDistribution, ErdosRenyiKernelDistribution } from './plugins/distributions/erdos-renyi';
import { UniformDistribution } from './plugins/distributions/uniform';
import { RigLSparsifier } from './plugins/sparsifiers/rigl';
import { SETSparsifier } from './plugins/sparsifiers/set';
import { StaticSparsifier } from './plugins/sparsifiers/static';
import { registerDistribution, registerSparsifier } from './registry';

/** The built-in strategies, registered in the global container when the package is loaded. */
export function registerDefaults(): void {
  registerSparsifier('rigl', RigLSparsifier);
  registerSparsifier('set', SETSparsifier);
  registerSparsifier('static', StaticSparsifier);
  registerDistribution('uniform', UniformDistribution);
  registerDistribution('er', ErdosRenyiDistribution);
  registerDistribution('erk', ErdosRenyiKernelDistribution);
}
