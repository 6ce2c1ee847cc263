// Jest setup (jest.config.js setupFiles): the Temporal SDK logs at WARN in tests, so the output shows
// failures rather than every worker's state changes. The runtime is one per process; a file that
// installs its own first keeps it.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed in this worker process.
}
