// Two projects: the whole suite runs once on the pure-JS `cpu` backend and once on `wasm`.
// @swc/jest transpiles only (fast); `npm run typecheck` type-checks. decoratorMetadata is required by tsyringe.
const transform = {
  '^.+\\.ts$': ['@swc/jest', {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2020',
    },
    module: { type: 'commonjs' },
  }],
};
const project = (backend) => ({
  displayName: backend,
  testEnvironment: 'node',
  transform,
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
  // Examples import the package by name, as users do; in this repo that name is the source.
  moduleNameMapper: { '^tfjs-moon$': '<rootDir>/src/index.ts' },
  setupFilesAfterEnv: ['<rootDir>/test/setup/quiet-banner.ts', `<rootDir>/test/setup/${backend}.ts`],
});
// Real engines (headless Chromium), once: the page trains on webgl and is compared with the cpu backend in Node.
const browser = {
  ...project('cpu'),
  displayName: 'browser',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
module.exports = {
  projects: [project('cpu'), project('wasm'), browser],
  testTimeout: 60000,
};
