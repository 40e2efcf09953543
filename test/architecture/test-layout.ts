// Only test/e2e starts processes of ours (the CLI, the service, node with a script): unit, integration,
// security, docs and deploy tests run in the test's own process. Test infrastructure that is not ours (a
// private redis-server, fixtures/redis-server.ts) may be started anywhere, through its fixture.
import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

/** What in a file's text starts a process: node's child_process, or the CLI-spawning fixture. */
const SPAWNS: Array<[RegExp, string]> = [
  [/from ['"]node:child_process['"]|require\(['"](node:)?child_process['"]\)/, 'imports node:child_process'],
  [/\bspawnCli\b/, 'uses spawnCli (fixtures/processes.ts)'],
]

/** This check's own files name what they look for; they start nothing. */
const SELF = ['architecture/test-layout.ts', 'architecture/test-layout.test.ts']

/** `.ts` files under `root` outside e2e/ and fixtures/ (and this check's own), relative, with forward slashes. */
export function filesOutsideE2e(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    const rel = relative(root, path).split(sep).join('/')
    if (entry.isDirectory()) return rel === 'e2e' || rel === 'fixtures' ? [] : filesOutsideE2e(root, path)
    return entry.name.endsWith('.ts') && !SELF.includes(rel) ? [rel] : []
  })
}

/** `file: reason` for each way the text starts a process. */
export function spawnFindings(file: string, text: string): string[] {
  return SPAWNS.filter(([pattern]) => pattern.test(text)).map(([, why]) => `${file}: ${why}`)
}
