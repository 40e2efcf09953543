// Keeps the layout the README promises: folder boundaries and an acyclic import graph in src/.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { boundaryViolations, type ImportGraph, importCycles, readImportGraph } from './import-graph.ts'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

function copy(graph: ImportGraph): ImportGraph {
  return new Map([...graph].map(([f, n]) => [f, { files: new Set(n.files), packages: new Set(n.packages) }]))
}

/** What `after` has that `before` has not: the planted tests hold whatever the tree's own state. */
const added = (before: string[], after: string[]) => after.filter((v) => !before.includes(v))

describe('the import graph of src/', () => {
  const graph = readImportGraph(SRC)

  it('when src/ is read, then every file and its imports are found, type imports included', () => {
    expect(graph.size).toBeGreaterThan(50)
    expect(graph.get('app.ts')?.packages.has('express')).toBe(true)
    expect(graph.get('sts/alibaba-client.ts')?.packages.has('@alicloud/sts20150401')).toBe(true)
    const typeOnly = [...graph.values()].some((n) => [...n.files].some((f) => f.endsWith('types.ts')))
    expect(typeOnly).toBe(true)
  })

  it('when every import is checked, then none crosses a boundary the README names', () => {
    expect(boundaryViolations(graph)).toEqual([])
  })

  it('when the graph is walked, then it has no cycle', () => {
    expect(importCycles(graph)).toEqual([])
  })

  it('when a policies → config import is planted, then the boundary check names it', () => {
    const planted = copy(graph)
    planted.get('policies/compile.ts')?.files.add('config/load.ts')
    expect(added(boundaryViolations(graph), boundaryViolations(planted))).toEqual([
      expect.stringMatching(/^policies\/compile\.ts → config\/load\.ts: policies\/ is pure/),
    ])
  })

  it('when an express or @alicloud import is planted outside its home, then the boundary check names it', () => {
    const planted = copy(graph)
    planted.get('services/simulate.ts')?.packages.add('express')
    planted.get('auth/bearer.ts')?.packages.add('@alicloud/credentials')
    expect(added(boundaryViolations(graph), boundaryViolations(planted))).toHaveLength(2)
  })

  it('when a cycle is planted, then the cycle check names every file in it', () => {
    const planted = copy(graph)
    planted.get('errors.ts')?.files.add('cli.ts')
    const cycles = importCycles(planted).filter((c) => c.includes('errors.ts'))
    expect(cycles).toHaveLength(1)
    expect(cycles[0]).toEqual(expect.arrayContaining(['cli.ts', 'errors.ts']))
  })
})
