#!/usr/bin/env node
// Adds lockfile entries for @biomejs/biome's platform packages that npm could not record.
// The registry mirror of this project's machines serves only the host's variant (linux-x64), so
// `npm install` leaves the other optional variants out and `npm ci` then refuses the lockfile.
// The entries carry os/cpu/libc, so npm skips them on other platforms without fetching anything.
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const biome = lock.packages['node_modules/@biomejs/biome']
const version = biome.version
const added = []
for (const name of Object.keys(biome.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`
  if (lock.packages[key]) continue
  const [os, cpu, libc] = name.replace('@biomejs/cli-', '').split('-')
  // Keys in the order npm writes them, so a later `npm install` leaves the file byte-identical.
  const entry = { version, cpu: [cpu], dev: true }
  if (os === 'linux') entry.libc = [libc === 'musl' ? 'musl' : 'glibc']
  Object.assign(entry, { license: 'MIT OR Apache-2.0', optional: true, os: [os] })
  lock.packages[key] = entry
  added.push(name)
}
const [root, ...rest] = Object.entries(lock.packages)
lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => a.localeCompare(b))])
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
process.stdout.write(added.length ? `added ${added.join(', ')}\n` : 'lockfile complete\n')
