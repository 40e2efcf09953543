// Notices when a file's content changes: fs.watch on its directory (a Kubernetes ConfigMap swaps a symlink
// there, which a watch on the file itself misses) plus polling of the resolved target, so a change is seen
// within `intervalMs` even where fs.watch is silent (network and overlay file systems).
import { createHash } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'

export interface FileSnapshot {
  /** The file's text, or null when it is missing or unreadable. */
  text: string | null
  /** sha256 hex of the text ('' when missing). */
  sha256: string
}

export interface FileWatch {
  /** Reads the file now and calls onChange when its content differs from the last seen. */
  check(): Promise<void>
  close(): void
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex')

export async function readSnapshot(path: string): Promise<FileSnapshot> {
  try {
    const text = await readFile(path, 'utf8')
    return { text, sha256: sha256Hex(text) }
  } catch {
    return { text: null, sha256: '' }
  }
}

/** Identity of the resolved target: cheap to poll; the content is read only when it moves. */
async function fingerprint(path: string): Promise<string> {
  try {
    const target = await realpath(path)
    const s = await stat(target)
    return `${target}\0${s.ino}\0${s.size}\0${s.mtimeMs}`
  } catch {
    return 'missing'
  }
}

/**
 * Watches `path`, whose current content has hash `initialSha256`. `onChange` runs (never twice at once)
 * with each new content; a missing file counts as a change to `{text: null}`.
 */
export function watchFile(
  path: string,
  initialSha256: string,
  onChange: (snapshot: FileSnapshot) => Promise<void> | void,
  options: { intervalMs?: number } = {},
): FileWatch {
  let lastSha = initialSha256
  let lastPrint = ''
  let running: Promise<void> | null = null
  let again = false
  let closed = false
  const run = async (force: boolean) => {
    const print = await fingerprint(path)
    if (!force && print === lastPrint) return
    lastPrint = print
    const snapshot = await readSnapshot(path)
    if (snapshot.sha256 === lastSha) return
    lastSha = snapshot.sha256
    await onChange(snapshot)
  }
  const check = (force = true): Promise<void> => {
    if (closed) return Promise.resolve()
    if (running) {
      again = true
      return running
    }
    running = run(force)
      .catch(() => undefined)
      .finally(() => {
        running = null
        if (again) {
          again = false
          void check()
        }
      })
    return running
  }
  void fingerprint(path).then((p) => {
    if (lastPrint === '') lastPrint = p
  })
  let watcher: FSWatcher | null = null
  try {
    const name = basename(path)
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      // A ConfigMap update renames `..data`; anything in the directory may be the swap.
      if (file === null || file === name || String(file).startsWith('..')) void check()
      else void check(false)
    })
    watcher.on('error', () => undefined)
  } catch {
    watcher = null
  }
  const timer = setInterval(() => void check(false), options.intervalMs ?? 1000)
  timer.unref()
  return {
    check: () => check(true),
    close() {
      closed = true
      clearInterval(timer)
      watcher?.close()
    },
  }
}
