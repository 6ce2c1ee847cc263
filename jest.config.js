/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 60_000,
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/support/quiet-sdk.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
