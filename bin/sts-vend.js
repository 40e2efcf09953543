#!/usr/bin/env node
// Runs the CLI from source (via tsx) in a checkout, or from dist/ in an installed package.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
let cli
if (existsSync(join(root, 'src', 'cli.ts'))) {
  const { register } = await import('tsx/esm/api')
  register()
  cli = await import('../src/cli.ts')
} else {
  cli = await import('../dist/cli.js')
}
const code = await cli.runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
})
process.exitCode = code
