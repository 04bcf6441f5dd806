/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/domain', '<rootDir>/services', '<rootDir>/projections', '<rootDir>/schemas', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration tests share one real stack; run files one at a time so they do not fight over it.
  maxWorkers: 1,
  // Every test file re-requires the service's modules, and some stay reachable after it (about
  // 200 MB a file with deciders; see the README's known limits): the one worker is replaced
  // whenever a file leaves it above this, so the suite never runs out of heap. (A memory limit
  // also makes Jest use a worker process even with maxWorkers 1.)
  workerIdleMemoryLimit: '1500MB',
  testTimeout: 60_000,
  // A native Kafka client left open by a failed test must not keep CI waiting forever.
  forceExit: true,
  globalSetup: '<rootDir>/test/globalSetup.ts',
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
};
