// One running Gatehouse per data directory. The directory holds state that belongs to one
// process: the spill file of the audit queue, the demo's agent key (a second demo revokes the
// first's), the store's config sync. A second `start` on the same directory stops before it reads
// or writes any of it.
//
// The lock is SQLite's write lock on <dataDir>/gatehouse.lock, held for the life of the process:
// the operating system releases it when the process ends, however it ends (a pid file goes stale
// after a crash, and pids are reused, e.g. in containers). It is per process and per connection,
// so a second gateway in the same process is refused too. The holder's pid is committed in the
// file before the lock is held, so the refusal can name it.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'gatehouse.lock';

/** Thrown when another Gatehouse holds the data directory. */
export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    /** The holder's pid, when it could be read. */
    readonly pid: number | undefined,
  ) {
    super(`the data directory ${dataDir} is in use by another running Gatehouse${pid === undefined ? '' : ` (pid ${pid})`}: stop it first, or give this one its own data directory (GATEHOUSE_DATA_DIR or dataDir in the config)`);
  }
}

export class DataDirLock {
  private constructor(private db: Database.Database | undefined) {}

  /** Takes the lock, creating the directory (0700) if needed; throws DataDirBusyError when it is held. */
  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, LOCK_FILE);
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    // timeout 0: a held lock is answered at once, not waited for.
    const db = new Database(file, { timeout: 0 });
    try {
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
      if (!tryReserve(db)) throw new DataDirBusyError(dataDir, readHolder(db));
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
      // The commit waits briefly for a refused process that is reading the holder's pid.
      db.pragma('busy_timeout = 2000');
      db.exec('COMMIT');
      db.pragma('busy_timeout = 0');
      // Between the commit and this, another process may have taken the lock: then it is theirs.
      if (!tryReserve(db)) throw new DataDirBusyError(dataDir, readHolder(db));
      return new DataDirLock(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  release(): void {
    if (!this.db) return;
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
      this.db = undefined;
    }
  }
}

/** BEGIN IMMEDIATE takes SQLite's write (RESERVED) lock; readers may still read. */
function tryReserve(db: Database.Database): boolean {
  try {
    db.exec('BEGIN IMMEDIATE');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  }
}

function readHolder(db: Database.Database): number | undefined {
  try {
    db.pragma('busy_timeout = 500');
    const row = db.prepare('SELECT pid FROM holder').get() as { pid: number } | undefined;
    return row?.pid;
  } catch {
    return undefined;
  }
}
