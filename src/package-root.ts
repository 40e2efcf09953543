// The package root (package.json, openapi.yaml, web/), found from this module's own URL: the nearest
// ancestor holding package.json. From src/ and from tsc's dist/ that is one level up; the esbuild bundle
// (scripts/build.mjs) puts this code in a file directly in dist/, where a fixed '../../' would miss.
import { existsSync } from 'node:fs'

function findPackageRoot(start: URL): URL {
  let dir = start
  for (;;) {
    if (existsSync(new URL('package.json', dir))) return dir
    const parent = new URL('../', dir)
    if (parent.href === dir.href) throw new Error(`no package.json above ${start.href}`)
    dir = parent
  }
}

export const PACKAGE_ROOT: URL = findPackageRoot(new URL('./', import.meta.url))
