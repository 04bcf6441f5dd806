/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/domain', '<rootDir>/services', '<rootDir>/projections', '<rootDir>/schemas', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration tests share one real stack; run files one at a time so they do not fight over it.
  maxWorkers: 1,
  testTimeout: 60_000,
  // A native Kafka client left open by a failed test must not keep CI waiting forever.
  forceExit: true,
  globalSetup: '<rootDir>/test/globalSetup.ts',
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
};
