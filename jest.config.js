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
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', '<rootDir>/test/webgpu/'],
  // Examples import the package by name, as users do; in this repo that name is the source.
  moduleNameMapper: { '^tfjs-moon$': '<rootDir>/src/index.ts' },
  setupFilesAfterEnv: ['<rootDir>/test/setup/quiet-banner.ts', `<rootDir>/test/setup/${backend}.ts`],
});
// Real engines, once each: headless Chromium (the page trains on webgl) and WebGPU in Node (Dawn), both compared
// with the cpu backend in the test's own process.
const engines = {
  ...project('cpu'),
  displayName: 'engines',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts', '<rootDir>/test/webgpu/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
module.exports = {
  projects: [project('cpu'), project('wasm'), engines],
  testTimeout: 60000,
};
