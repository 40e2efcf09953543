// The import graph of src/ (value and type imports, re-exports, dynamic imports) and the checks the
// README's layout promises: boundaries between folders, and no cycles.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/** file (relative to src/, e.g. `policies/compile.ts`) → what it imports: src files and bare packages. */
export type ImportGraph = Map<string, { files: Set<string>; packages: Set<string> }>

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return tsFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The bare package name of a specifier: `@scope/name`, `name`, or `node:x`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier)
}

/** Reads every `.ts` file under `srcRoot` and records what each imports. */
export function readImportGraph(srcRoot: string): ImportGraph {
  const graph: ImportGraph = new Map()
  for (const file of tsFiles(srcRoot)) {
    const text = readFileSync(file, 'utf8')
    const node = { files: new Set<string>(), packages: new Set<string>() }
    for (const m of text.matchAll(SPECIFIER)) {
      const specifier = m[1] ?? m[2] ?? ''
      if (specifier.startsWith('.')) node.files.add(relative(srcRoot, resolve(dirname(file), specifier)))
      else node.packages.add(packageOf(specifier))
    }
    graph.set(relative(srcRoot, file), node)
  }
  return graph
}

export interface Boundary {
  /** Files the rule applies to (prefix match on the path relative to src/). */
  from: (file: string) => boolean
  /** True when `target` (a src file or a package) may not be imported. */
  forbids: (target: string, kind: 'file' | 'package') => boolean
  why: string
}

const inFolder = (folder: string) => (file: string) => file.startsWith(`${folder}/`)
const anyOf =
  (...tests: ((f: string) => boolean)[]) =>
  (f: string) =>
    tests.some((t) => t(f))

/** policies/ and the two plain modules it shares with everything else: the error catalogue and domain types. */
const isPureCore = (file: string) =>
  file.startsWith('policies/') || file === 'errors.ts' || file === 'types.ts'
/** Packages that compute and do nothing else: hashing and the linear-time regex engine. */
const PURE_PACKAGES = new Set(['node:crypto', 're2js'])

/** The boundaries the README names (Layout, under Development). */
export const BOUNDARIES: Boundary[] = [
  {
    from: isPureCore,
    forbids: (t, kind) => (kind === 'file' ? !isPureCore(t) : !PURE_PACKAGES.has(t)),
    why: 'policies/ is pure: it imports only policies/, errors.ts and types.ts (no config, no I/O, no logging)',
  },
  {
    from: (f) => f !== 'sts/alibaba-client.ts',
    forbids: (t, kind) => kind === 'package' && t.startsWith('@alicloud/'),
    why: 'only sts/alibaba-client.ts imports @alicloud/*',
  },
  {
    from: (f) => !(f === 'app.ts' || f.startsWith('routes/')),
    forbids: (t, kind) => kind === 'package' && t === 'express',
    why: 'only routes/ and app.ts import express',
  },
  {
    from: anyOf(inFolder('services'), inFolder('formats'), inFolder('auth'), inFolder('config')),
    forbids: (t, kind) =>
      kind === 'file'
        ? t.startsWith('routes/') || t === 'app.ts' || t === 'server.ts' || t === 'cli.ts'
        : false,
    why: 'services/, formats/, auth/ and config/ never reach up into routes/, app.ts, server.ts or cli.ts',
  },
]

/** Every import that crosses a boundary, as `from → target: why`. */
export function boundaryViolations(graph: ImportGraph, boundaries: Boundary[] = BOUNDARIES): string[] {
  const out: string[] = []
  for (const [file, node] of graph) {
    for (const b of boundaries) {
      if (!b.from(file)) continue
      for (const t of node.files) if (b.forbids(t, 'file')) out.push(`${file} → ${t}: ${b.why}`)
      for (const t of node.packages) if (b.forbids(t, 'package')) out.push(`${file} → ${t}: ${b.why}`)
    }
  }
  return out
}

/** The strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function importCycles(graph: ImportGraph): string[][] {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    indices.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.files ?? []) {
      if (!graph.has(w)) continue
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, indices.get(w) ?? 0))
    }
    if (low.get(v) !== indices.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop()
      if (w === undefined) break
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || graph.get(v)?.files.has(v)) cycles.push(component.sort())
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v)
  return cycles
}
