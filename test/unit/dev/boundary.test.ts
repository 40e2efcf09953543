// The dev issuer can never run inside `serve`: nothing the service process loads imports src/dev/.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

/** Every src/ file reachable from `entry` through relative static and dynamic imports. */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>()
  const queue = [resolve(root, entry)]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file) || !existsSync(file)) continue
    seen.add(file)
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = match[1] ?? match[2]
      if (spec?.endsWith('.ts')) queue.push(join(dirname(file), spec))
    }
  }
  return new Set([...seen].map((f) => relative(root, f)))
}

describe('dev issuer boundary', () => {
  it.each(['src/server.ts', 'src/app.ts'])(
    'when everything %s loads is listed, then nothing is under src/dev/',
    (entry) => {
      const graph = importGraph(entry)
      expect(graph.size).toBeGreaterThan(1)
      expect([...graph].filter((f) => f.startsWith('src/dev/'))).toEqual([])
    },
  )

  it('when the walker reads the CLI, then it does reach src/dev/ (the walker can see such an import)', () => {
    expect([...importGraph('src/cli.ts')].some((f) => f.startsWith('src/dev/'))).toBe(true)
  })
})
