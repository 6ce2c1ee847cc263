import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessRunning } from './process-liveness';

/**
 * A directory of JSON records kept durably: a snapshot written atomically, plus an append-only
 * journal of batches written after it. Knows nothing of what the records mean.
 *
 * Files (generation N):
 * - `snapshot.jsonl`: a header line `{"format":..., "generation": N}`, then one record per line.
 *   Replaced only whole: written to `snapshot.jsonl.tmp`, fsynced, renamed over, directory fsynced.
 * - `journal-N.jsonl`: one batch per line, a JSON array of records; each append is fsynced
 *   (fdatasync) before it counts as written.
 * - `LOCK`: the pid of the process that has the directory open.
 *
 * Loading applies the snapshot, then its generation's journal. A crash (SIGKILL, power loss) can
 * leave at most the last batch of the journal partly written; that batch was never reported
 * written (its fsync had not returned), so a tail that does not parse is dropped. Anything that
 * does not parse before a batch that does is corruption and stops the load.
 * Compaction writes generation N+1's snapshot, starts its empty journal and deletes generation N:
 * a crash at any point leaves either generation N complete or generation N+1 complete.
 */

const FORMAT = 'fieldops-temporal-test-server-state';
const VERSION = 1;
const SNAPSHOT = 'snapshot.jsonl';
const LOCK = 'LOCK';
const journalName = (generation: number): string => `journal-${generation}.jsonl`;

export interface JournalLoad<R> {
  /** The snapshot's records, then the journal's, in order. */
  records: R[];
  /** Bytes at the end of the journal that were dropped (a batch torn by a crash). */
  droppedTailBytes: number;
}

/** Parses the journal's text: complete batches, and how many trailing bytes were unreadable. */
export function parseJournal<R>(text: string, fileName: string): { batches: R[][]; droppedTailBytes: number } {
  const batches: R[][] = [];
  let position = 0;
  let unreadableFrom: number | undefined;
  while (position < text.length) {
    const newline = text.indexOf('\n', position);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(position, end);
    let batch: unknown;
    try {
      batch = newline < 0 ? undefined : JSON.parse(line);
    } catch {
      batch = undefined;
    }
    if (Array.isArray(batch)) {
      if (unreadableFrom !== undefined) {
        throw new Error(`${fileName}: unreadable batch at byte ${Buffer.byteLength(text.slice(0, unreadableFrom))} before a readable one: the journal is corrupt`);
      }
      batches.push(batch as R[]);
    } else if (line.trim() !== '' || newline < 0) {
      unreadableFrom ??= position;
    }
    position = end + 1;
  }
  const droppedTailBytes = unreadableFrom === undefined ? 0 : Buffer.byteLength(text.slice(unreadableFrom));
  return { batches, droppedTailBytes };
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Claims the directory for this process; a lock left by a process that died is taken over. */
async function lockDirectory(directory: string): Promise<void> {
  const lockFile = path.join(directory, LOCK);
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readIfExists(lockFile));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessRunning(holder)) {
      throw new Error(`${directory} is in use by process ${holder} (${lockFile})`);
    }
    await fs.rm(lockFile, { force: true });
  }
}

export class Journal<R> {
  private closed = false;

  private constructor(
    private readonly directory: string,
    private generation: number,
    private handle: fs.FileHandle,
    /** Size of the current journal file. */
    private size: number,
  ) {}

  /** Opens (creating if needed) the directory and reads what it holds. */
  static async open<R>(directory: string): Promise<{ journal: Journal<R>; loaded: JournalLoad<R> }> {
    await fs.mkdir(directory, { recursive: true });
    await lockDirectory(directory);
    const records: R[] = [];
    let generation = 0;
    const snapshotText = await readIfExists(path.join(directory, SNAPSHOT));
    if (snapshotText !== undefined) {
      const [headerLine = '', ...lines] = snapshotText.split('\n');
      const header = JSON.parse(headerLine) as { format?: string; version?: number; generation?: number };
      if (header.format !== FORMAT || header.version !== VERSION || !Number.isInteger(header.generation)) {
        throw new Error(`${path.join(directory, SNAPSHOT)} is not a version ${VERSION} ${FORMAT} snapshot`);
      }
      generation = header.generation!;
      for (const line of lines) if (line.trim() !== '') records.push(JSON.parse(line) as R);
    }
    const journalFile = path.join(directory, journalName(generation));
    const journalText = (await readIfExists(journalFile)) ?? '';
    const { batches, droppedTailBytes } = parseJournal<R>(journalText, journalFile);
    for (const batch of batches) records.push(...batch);
    // Leftovers of an interrupted compaction.
    for (const name of await fs.readdir(directory)) {
      if ((name.startsWith('journal-') && name !== journalName(generation)) || name.endsWith('.tmp')) {
        await fs.rm(path.join(directory, name), { force: true });
      }
    }
    const validBytes = Buffer.byteLength(journalText) - droppedTailBytes;
    const handle = await fs.open(journalFile, 'a');
    // The torn tail goes, so the next batch starts on a line of its own.
    if (droppedTailBytes > 0) {
      await handle.truncate(validBytes);
      await handle.datasync();
    }
    await fsyncDirectory(directory);
    return { journal: new Journal<R>(directory, generation, handle, validBytes), loaded: { records, droppedTailBytes } };
  }

  /** Bytes appended to the journal since the last snapshot. */
  get journalBytes(): number {
    return this.size;
  }

  /** Appends one batch; resolves once it is on disk. */
  async append(batch: readonly R[]): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(batch)}\n`);
    let written = 0;
    while (written < line.length) {
      const { bytesWritten } = await this.handle.write(line, written, line.length - written);
      written += bytesWritten;
    }
    await this.handle.datasync();
    this.size += line.length;
  }

  /**
   * Replaces everything with a snapshot of `records` (the whole state, in load order) and an empty
   * journal; resolves once the new generation is durable and the old one deleted.
   */
  async compact(records: Iterable<R>): Promise<void> {
    const next = this.generation + 1;
    const snapshotFile = path.join(this.directory, SNAPSHOT);
    const temporary = `${snapshotFile}.tmp`;
    const snapshot = await fs.open(temporary, 'w');
    try {
      let chunk = `${JSON.stringify({ format: FORMAT, version: VERSION, generation: next })}\n`;
      for (const record of records) {
        chunk += `${JSON.stringify(record)}\n`;
        if (chunk.length > 1 << 20) {
          await snapshot.write(chunk);
          chunk = '';
        }
      }
      await snapshot.write(chunk);
      await snapshot.sync();
    } finally {
      await snapshot.close();
    }
    const nextJournal = await fs.open(path.join(this.directory, journalName(next)), 'w');
    await nextJournal.sync();
    await fs.rename(temporary, snapshotFile);
    await fsyncDirectory(this.directory);
    await this.handle.close();
    await fs.rm(path.join(this.directory, journalName(this.generation)), { force: true });
    this.handle = nextJournal;
    this.generation = next;
    this.size = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
    await fs.rm(path.join(this.directory, LOCK), { force: true });
  }
}
