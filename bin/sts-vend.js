#!/usr/bin/env node
// Runs the CLI from source through tsx in a checkout (tsx is a dev dependency), or from dist/ when
// installed or when dev dependencies are absent (the container image).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

async function loadCli() {
  if (existsSync(join(root, 'src', 'cli.ts'))) {
    const tsx = await import('tsx/esm/api').catch(() => undefined)
    if (tsx) {
      tsx.register()
      return import('../src/cli.ts')
    }
  }
  if (existsSync(join(root, 'dist', 'cli.js'))) return import('../dist/cli.js')
  process.stderr.write('sts-vend: run `npm install` (to run from source) or `npm run build` first\n')
  process.exit(1)
}

const cli = await loadCli()
const code = await cli.runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
})
process.exitCode = code
