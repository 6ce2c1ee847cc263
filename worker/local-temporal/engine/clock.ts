/**
 * The server's single clock. Virtual time = wall time + an offset that only ever grows.
 *
 * Time skipping follows the lock counter of Temporal's Java test server (SelfAdvancingTimerImpl):
 * skipping is locked once at start (released by TimeSkippingWorkflowClient while it awaits a
 * result), once by every outstanding workflow task, and once by every activity task that is
 * scheduled or running (a heartbeat does not release it; a retry backoff does); each TestService
 * sleep in progress releases one lock. When no lock is left, the offset jumps forward to the next
 * due timer, which then fires at once. Between jumps virtual time flows at wall-clock speed, so
 * timeouts of running tasks still fire in real time.
 */

export interface ClockTimer {
  cancel(): void;
}

/** A placeholder for a timer not armed yet. */
export const DISARMED: ClockTimer = { cancel: () => undefined };

interface ScheduledTimer {
  dueMs: number;
  sequence: number;
  fire: () => void;
  cancelled: boolean;
}

/** Longest real setTimeout we arm at once; longer waits are re-armed when it expires. */
const MAX_REAL_DELAY_MS = 60_000;

export class VirtualClock {
  private offsetMs = 0;
  private sequence = 0;
  private readonly timers: ScheduledTimer[] = [];
  private realTimer: NodeJS.Timeout | undefined;
  private armedForMs: number | undefined;
  /**
   * LockTimeSkipping / UnlockTimeSkipping balance. It may go below zero (concurrent `result()` calls
   * each unlock once; the Java server would refuse that): below zero counts as no lock, so it never
   * cancels the locks of outstanding tasks.
   */
  private lockCount: number;
  private activeSleeps = 0;
  private skipCheckScheduled = false;
  private stopped = false;

  constructor(
    readonly timeSkipping: boolean,
    /** How many locks the engine's outstanding tasks hold: workflow tasks, and activity tasks scheduled or running. */
    private readonly outstandingTaskLocks: () => number,
    /** Where virtual time starts (epoch ms); defaults to now. */
    startTimeMs?: number,
  ) {
    if (startTimeMs !== undefined) this.offsetMs = startTimeMs - Date.now();
    // Like Temporal's test server, skipping starts locked; TimeSkippingWorkflowClient.result() unlocks it.
    this.lockCount = timeSkipping ? 1 : 0;
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** How far virtual time is ahead of the wall clock (what a restart must keep so time never goes back). */
  get skippedMs(): number {
    return this.offsetMs;
  }

  schedule(dueMs: number, fire: () => void): ClockTimer {
    const timer: ScheduledTimer = { dueMs, sequence: this.sequence++, fire, cancelled: false };
    const index = this.insertionIndex(timer);
    this.timers.splice(index, 0, timer);
    if (index === 0) this.arm();
    this.requestSkipCheck();
    return {
      cancel: () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        const at = this.timers.indexOf(timer);
        if (at >= 0) this.timers.splice(at, 1);
      },
    };
  }

  lock(): void {
    this.lockCount++;
  }

  unlock(): void {
    this.lockCount--;
    this.requestSkipCheck();
  }

  /**
   * Resolves when virtual time has reached `targetMs`. While it waits it releases one lock, as the
   * Java server's UnlockTimeSkippingWithSleep does: from a test that is not awaiting a result it
   * skips when nothing is outstanding; it does not skip past a running activity unless that activity
   * is the caller (its own lock is the one released).
   */
  sleepUntil(targetMs: number): Promise<void> {
    if (targetMs <= this.now()) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.timeSkipping) this.activeSleeps++;
      this.schedule(targetMs, () => {
        if (this.timeSkipping) this.activeSleeps--;
        resolve();
      });
    });
  }

  /** Call after any state change that may have made the system idle. */
  requestSkipCheck(): void {
    if (!this.timeSkipping || this.skipCheckScheduled || this.stopped) return;
    this.skipCheckScheduled = true;
    setImmediate(() => {
      this.skipCheckScheduled = false;
      this.skipIfIdle();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
    this.timers.length = 0;
  }

  private skipIfIdle(): void {
    if (this.stopped) return;
    const locks = Math.max(this.lockCount, 0) + this.outstandingTaskLocks() - this.activeSleeps;
    if (locks > 0) return;
    const next = this.timers[0];
    if (!next) return;
    const gap = next.dueMs - this.now();
    if (gap > 0) this.offsetMs += gap;
    this.fireDue();
  }

  private insertionIndex(timer: ScheduledTimer): number {
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.timers[mid]!;
      if (other.dueMs < timer.dueMs || (other.dueMs === timer.dueMs && other.sequence < timer.sequence)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private arm(): void {
    const next = this.timers[0];
    if (!next || this.stopped) return;
    const delay = Math.min(Math.max(0, next.dueMs - this.now()), MAX_REAL_DELAY_MS);
    const fireAt = Date.now() + delay;
    if (this.realTimer && this.armedForMs !== undefined && this.armedForMs <= fireAt) return;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.armedForMs = fireAt;
    this.realTimer = setTimeout(() => {
      this.realTimer = undefined;
      this.armedForMs = undefined;
      this.fireDue();
    }, delay);
  }

  private fireDue(): void {
    const now = this.now();
    while (this.timers.length > 0 && this.timers[0]!.dueMs <= now) {
      const timer = this.timers.shift()!;
      if (timer.cancelled) continue;
      timer.cancelled = true;
      try {
        timer.fire();
      } catch (error) {
        // A failing timer action must not take the whole server (or `npm start`) down.
        console.error('[temporal-test-server] timer action failed:', error);
      }
    }
    this.arm();
    this.requestSkipCheck();
  }
}
