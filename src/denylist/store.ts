// Where the deny list lives. The service and the CLI talk to a DenyListStore; the file store is the one
// built today, and a shared store (the fleet's Redis) implements the same five calls.
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { type FileWatch, sha256Hex, watchFile } from '../reload/watch.ts'
import {
  type DenyEntry,
  DenyListError,
  type DenySelector,
  parseDenyList,
  sameSelector,
  selectorOf,
  serializeDenyList,
} from './model.ts'

export interface DenyListStore {
  /** For logs and CLI output: `file /etc/sts-vend/deny.yaml`. */
  readonly description: string
  /** Every entry, expired ones included. Throws DenyListError when the stored list is invalid. */
  list(): Promise<DenyEntry[]>
  /** Adds the entry, replacing one with the same selector. */
  add(entry: DenyEntry): Promise<'added' | 'replaced'>
  /** Removes the entry with this selector; false when there was none. */
  remove(selector: DenySelector): Promise<boolean>
  /** Calls onChange with the whole list after each change; onError when a change cannot be read. */
  watch(onChange: (entries: DenyEntry[]) => void, onError: (error: DenyListError) => void): { close(): void }
}

/** Writes `text` to `path` through a temporary file in the same directory and a rename: never half a file. */
export function writeFileAtomic(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fd = openSync(temp, 'wx', 0o644)
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  } catch (err) {
    rmSync(temp, { force: true })
    throw err
  }
}

/** The text of the file, '' when it does not exist yet (an absent list is an empty one). */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw new DenyListError([`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`])
  }
}

/**
 * The deny list as a YAML file. Writes are atomic (temp file + rename). Two `deny` commands run at
 * the very same moment can still lose one of the two edits (read-modify-write without a lock).
 */
export function createFileDenyListStore(path: string, options: { intervalMs?: number } = {}): DenyListStore {
  const read = () => {
    try {
      return parseDenyList(readText(path))
    } catch (err) {
      if (err instanceof DenyListError) throw new DenyListError(err.problems.map((p) => `${path}: ${p}`))
      throw err
    }
  }
  return {
    description: `file ${path}`,
    list: async () => read(),
    async add(entry) {
      const entries = read()
      const selector = selectorOf(entry)
      const at = entries.findIndex((e) => sameSelector(selectorOf(e), selector))
      if (at === -1) entries.push(entry)
      else entries[at] = entry
      writeFileAtomic(path, serializeDenyList(entries))
      return at === -1 ? 'added' : 'replaced'
    },
    async remove(selector) {
      const entries = read()
      const kept = entries.filter((e) => !sameSelector(selectorOf(e), selector))
      if (kept.length === entries.length) return false
      writeFileAtomic(path, serializeDenyList(kept))
      return true
    },
    watch(onChange, onError) {
      const watcher: FileWatch = watchFile(
        path,
        sha256Hex(readText(path)),
        (snapshot) => {
          if (snapshot.text === null) {
            onError(
              new DenyListError([`${path} is missing or unreadable; the last list read stays in force`]),
            )
            return
          }
          try {
            onChange(parseDenyList(snapshot.text))
          } catch (err) {
            if (err instanceof DenyListError) onError(err)
            else throw err
          }
        },
        { intervalMs: options.intervalMs ?? 1000 },
      )
      return { close: () => watcher.close() }
    },
  }
}
