import type { LocalActivityOptions } from '@temporalio/workflow';
import { BUSINESS_RULE_VIOLATION } from './definitions';

/**
 * How every process runs its steps. Each step is one short, idempotent activity (one transaction: the
 * change, its audit entry and its emails' outbox rows; the outbox relay sends the emails), run as a
 * local activity inside the workflow task that asked for it: an Update answers after one round trip to
 * the server instead of three, and the history holds one marker per step instead of an activity's
 * three events and a second workflow task. Retries past a minute of backoff become durable timers; a
 * broken business rule is not retried.
 */
export const STEP_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [BUSINESS_RULE_VIOLATION] },
};
