/** `npm run test:faults`: the fault suite (test/faults/*.faults.ts), the system as separate processes; not part of `npm test`. */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/faults/*.faults.ts'],
  testTimeout: 300_000,
  maxWorkers: 2,
};
