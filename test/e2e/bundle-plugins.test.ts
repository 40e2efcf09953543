// scripts/bundle-plugins.mjs: what the bundle leaves out of the start still loads, the same, when read.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { enginesNodeMajor, nodeAtLeastOrSkip } from '../fixtures/node-line.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const requireHere = createRequire(join(root, 'package.json'))
const work = mkdtempSync(join(tmpdir(), 'sts-vend-plugins-'))

interface Plugins {
  LAZY_REQUIRES: Record<string, unknown[]>
  withLazyRequires(file: string, contents: string): string
  builtinsThroughRequire: unknown
  lazyRequires: unknown
}
const plugins = (await import(pathToFileURL(join(root, 'scripts/bundle-plugins.mjs')).href)) as Plugins

afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Runs a CommonJS file's rewritten source as a module; records the specifiers it requires. */
function evaluate(file: string, source: string): { exports: Record<string, unknown>; required: string[] } {
  const required: string[] = []
  const real = createRequire(file)
  const recording = (id: string) => {
    required.push(id)
    return real(id)
  }
  const module = { exports: {} as Record<string, unknown> }
  new Function('exports', 'require', 'module', '__filename', '__dirname', source)(
    module.exports,
    recording,
    module,
    file,
    dirname(file),
  )
  return { exports: module.exports, required }
}

const rewritten = (key: string) => {
  const file = requireHere.resolve(key)
  return { file, ...evaluate(file, plugins.withLazyRequires(file, readFileSync(file, 'utf8'))) }
}

describe('the lazy requires of the bundle', () => {
  it('when prom-client loads, then Summary, Pushgateway and the cluster parts are not required until read, and are the same when read', () => {
    const { exports, required } = rewritten('prom-client/index.js')
    for (const part of ['./lib/summary', './lib/pushgateway', './lib/cluster', './lib/metricAggregators'])
      expect(required).not.toContain(part)
    const original = requireHere('prom-client') as Record<string, unknown>
    expect(Object.keys(exports).sort()).toEqual(Object.keys(original).sort())
    for (const name of ['Summary', 'Pushgateway', 'aggregators', 'AggregatorRegistry', 'Counter'])
      expect(exports[name]).toBe(original[name])
    expect(required).toContain('./lib/pushgateway')
  })

  it('when the default CPU metric loads and is collected, then the OpenTelemetry API waits for an exemplar', async () => {
    const { exports, required } = rewritten('prom-client/lib/metrics/processCpuTotal.js')
    const { Registry } = requireHere('prom-client') as typeof import('prom-client')
    const registry = new Registry()
    ;(exports as unknown as (registry: unknown) => void)(registry)
    expect(await registry.metrics()).toMatch(/^process_cpu_user_seconds_total \d/m)
    expect(required).not.toContain('@opentelemetry/api')
  })

  it("when the SDK's runtime loads, then ws, moment and lodash are not required, and every export is there", () => {
    const { exports, required } = rewritten('@darabonba/typescript/dist/index.js')
    expect(required).not.toContain('./websocket')
    expect(required).not.toContain('./date')
    const original = requireHere('@darabonba/typescript') as Record<string, unknown>
    expect(Object.keys(exports).sort()).toEqual(Object.keys(original).sort())
    expect(Object.keys(exports)).toContain('WebSocketMessageType')
    for (const name of Object.keys(original)) expect(exports[name], name).toBe(original[name])
    expect(required).toContain('./websocket')
    expect(required).toContain('./date')
  })

  it("when the SDK's func and file modules load, then lodash and moment wait for their first use", () => {
    const func = rewritten('@darabonba/typescript/dist/func.js')
    expect(func.required).not.toContain('lodash')
    const merge = func.exports['merge'] as (...args: unknown[]) => unknown
    expect(merge({ a: { b: 1 } }, { a: { c: 2 } })).toEqual({ a: { b: 1, c: 2 } })
    expect(func.required).toContain('lodash')
    expect(rewritten('@darabonba/typescript/dist/file.js').required).not.toContain('./date')
  })

  it('when a replaced line is not in the file (a new version of the package), then the rewrite throws', () => {
    const file = requireHere.resolve('prom-client/index.js')
    const changed = readFileSync(file, 'utf8').replace(
      "exports.Pushgateway = require('./lib/pushgateway');",
      '',
    )
    expect(() => plugins.withLazyRequires(file, changed)).toThrow(/Pushgateway/)
  })
})

describe('the built-ins of the bundle', () => {
  // Node 20 (below engines) does not load undici through the facade: the control below fails there.
  const supported = nodeAtLeastOrSkip(
    enginesNodeMajor(),
    'package.json engines',
    'the node:http facade tests',
  )
  it.skipIf(!supported)(
    "when a bundled ES module imports node:http, then Node's undici is not loaded at start",
    async () => {
      const { build } = await import('esbuild')
      const entry = join(work, 'entry.mjs')
      writeFileSync(
        entry,
        "import { createServer } from 'node:http'\n" +
          "console.log(JSON.stringify({ createServer: typeof createServer, undici: process.moduleLoadList.some((m) => m.includes('undici')) }))\n",
      )
      const run = async (withPlugin: boolean) => {
        const outfile = join(work, `out-${withPlugin}.mjs`)
        await build({
          entryPoints: [entry],
          outfile,
          bundle: true,
          format: 'esm',
          platform: 'node',
          banner: {
            js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
          },
          plugins: withPlugin ? [plugins.builtinsThroughRequire as never] : [],
          logLevel: 'silent',
        })
        const { stdout } = await promisify(execFile)(process.execPath, [outfile])
        return JSON.parse(stdout) as { createServer: string; undici: boolean }
      }
      expect(await run(true)).toEqual({ createServer: 'function', undici: false })
      // Without the plugin the facade loads it: the check above can fail.
      expect((await run(false)).undici).toBe(true)
    },
  )
})
