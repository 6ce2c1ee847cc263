import type { EngineCounters, EngineStore } from './engine';
import { Journal } from './journal';
import type { WorkflowRun } from './model';
import { replayRecords, reviveRun, runRecord, type StoredRecord } from './run-codec';

/** Compact the journal into a new snapshot once it has grown past this. */
export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** What the persistence reads from the engine it keeps. */
export interface PersistedEngine {
  runs(): Iterable<WorkflowRun>;
  counters(): EngineCounters;
  /** Virtual time ahead of the wall clock (time skipping). */
  skippedMs(): number;
}

/** What a data directory held at start, ready for the engine's `restore`. */
export interface RestoredState {
  runs: WorkflowRun[];
  counters: EngineCounters;
  /** Undefined when the directory held nothing. */
  skippedMs: number | undefined;
  /** Bytes of a batch torn by a crash that were dropped from the journal's end. */
  droppedTailBytes: number;
}

/**
 * Keeps an engine's state in a data directory (journal.ts) and hands it back at start.
 *
 * The engine reports each run it changes; at the end of the tick (setImmediate) the changed runs
 * are written as one batch (new history events and the run's whole mutable state, run-codec.ts)
 * and fsynced, so every change made in that tick costs one fsync together (group commit). Changes
 * made while a batch is being written go into the next one. `whenDurable()` is what an RPC awaits
 * before answering: it resolves once every change made so far is on disk. After the journal grows
 * past `compactAfterBytes` the next batch is a new snapshot of the whole state instead.
 */
export class EnginePersistence implements EngineStore {
  private engine: PersistedEngine | undefined;
  private readonly changedRuns = new Set<WorkflowRun>();
  private readonly deletedRunIds: string[] = [];
  /** How many of a run's history events are stored (also: the run's identity is stored when present). */
  private readonly storedEventCounts = new WeakMap<WorkflowRun, number>();
  private changes = 0;
  private durableChanges = 0;
  private readonly waiters: Array<{ changes: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private writing = false;
  private writeScheduled = false;
  private failure: Error | undefined;
  private closing = false;

  private constructor(
    private readonly journal: Journal<StoredRecord>,
    private readonly compactAfterBytes: number,
  ) {}

  /** Opens the directory and revives the runs it holds (nothing armed: the engine's `restore` does that). */
  static async open(
    directory: string,
    options: { compactAfterBytes?: number | undefined } = {},
  ): Promise<{ persistence: EnginePersistence; restored: RestoredState }> {
    const { journal, loaded } = await Journal.open<StoredRecord>(directory);
    const stored = replayRecords(loaded.records);
    const persistence = new EnginePersistence(journal, options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES);
    const runs = stored.runs.map((storedRun) => {
      const run = reviveRun(storedRun);
      persistence.storedEventCounts.set(run, run.history.length);
      return run;
    });
    return {
      persistence,
      restored: { runs, counters: stored.counters, skippedMs: stored.skippedMs, droppedTailBytes: loaded.droppedTailBytes },
    };
  }

  /**
   * Starts keeping `engine` (already restored): its whole state becomes the new snapshot, so every
   * start begins with a compact directory; from then on each change is journaled.
   */
  async attach(engine: PersistedEngine): Promise<void> {
    this.engine = engine;
    this.changedRuns.clear();
    this.deletedRunIds.length = 0;
    const upTo = this.changes;
    // Restored timers may fire while the snapshot is written: their batch waits for it.
    this.writing = true;
    try {
      await this.journal.compact(this.snapshotRecords(engine));
    } finally {
      this.writing = false;
    }
    this.markDurable(upTo);
    this.scheduleWrite();
  }

  runChanged(run: WorkflowRun): void {
    this.changedRuns.add(run);
    this.changes++;
    this.scheduleWrite();
  }

  runDeleted(run: WorkflowRun): void {
    this.changedRuns.delete(run);
    if (this.storedEventCounts.has(run)) this.deletedRunIds.push(run.runId);
    this.storedEventCounts.delete(run);
    this.changes++;
    this.scheduleWrite();
  }

  /** Undefined when every change so far is on disk; otherwise resolves once it is. */
  whenDurable(): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.durableChanges >= this.changes) return undefined;
    const changes = this.changes;
    return new Promise((resolve, reject) => this.waiters.push({ changes, resolve, reject }));
  }

  /** Writes what is pending, then closes the directory. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    while (this.writing || this.writeScheduled) await new Promise((resolve) => setImmediate(resolve));
    if (this.engine && !this.failure && (this.changedRuns.size > 0 || this.deletedRunIds.length > 0)) await this.writeBatches();
    await this.journal.close();
  }

  private scheduleWrite(): void {
    if (!this.engine || this.writing || this.writeScheduled || this.failure || this.closing) return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      void this.writeBatches();
    });
  }

  private async writeBatches(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.writing = true;
    try {
      while (this.changedRuns.size > 0 || this.deletedRunIds.length > 0) {
        const upTo = this.changes;
        if (this.journal.journalBytes >= this.compactAfterBytes) {
          this.changedRuns.clear();
          this.deletedRunIds.length = 0;
          await this.journal.compact(this.snapshotRecords(engine));
        } else {
          await this.journal.append(this.changeRecords(engine));
        }
        this.markDurable(upTo);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.writing = false;
    }
  }

  /** The changed runs (new events and state), the deletions, the counters: taken now, written next. */
  private changeRecords(engine: PersistedEngine): StoredRecord[] {
    const records: StoredRecord[] = [];
    for (const run of this.changedRuns) {
      const storedEvents = this.storedEventCounts.get(run);
      records.push(runRecord(run, storedEvents ?? 0, storedEvents === undefined));
      this.storedEventCounts.set(run, run.history.length);
    }
    for (const runId of this.deletedRunIds) records.push({ kind: 'deleted', runId });
    records.push({ kind: 'counters', ...engine.counters(), skippedMs: engine.skippedMs() });
    this.changedRuns.clear();
    this.deletedRunIds.length = 0;
    return records;
  }

  /** The whole state, taken now (the snapshot is written from these records after). */
  private snapshotRecords(engine: PersistedEngine): StoredRecord[] {
    const records: StoredRecord[] = [];
    for (const run of engine.runs()) {
      records.push(runRecord(run, 0, true));
      this.storedEventCounts.set(run, run.history.length);
    }
    records.push({ kind: 'counters', ...engine.counters(), skippedMs: engine.skippedMs() });
    return records;
  }

  private markDurable(changes: number): void {
    this.durableChanges = Math.max(this.durableChanges, changes);
    const ready = this.waiters.filter((waiter) => waiter.changes <= this.durableChanges);
    if (ready.length === 0) return;
    this.waiters.splice(0, this.waiters.length, ...this.waiters.filter((waiter) => waiter.changes > this.durableChanges));
    for (const waiter of ready) waiter.resolve();
  }

  /** A write that failed leaves the disk behind memory: from now on every call that waits for it fails. */
  private fail(error: Error): void {
    this.failure = new Error(`the Temporal test server could not write its data directory: ${error.message}`);
    console.error('[temporal-test-server]', this.failure.message);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }
}
