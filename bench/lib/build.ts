// The production form of the service, as the container runs it: dist/ bundled by scripts/build.mjs beside
// node_modules, openapi.yaml and web/, the compile cache warmed by the Dockerfile's own command, started
// with the Dockerfile's CMD and ENV.
import { execFile } from 'node:child_process'
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Instruction, parseDockerfile } from '../../test/deploy/dockerfile-parse.ts'
import { ROOT } from './proc.ts'

export interface ImageLayout {
  /** The app directory (the image's /app): the CMD runs from here. */
  dir: string
  /** The CMD's arguments after `node` (flags, then dist/server.js). */
  args: string[]
  /** The runtime stage's ENV, its /app paths moved into `dir`. */
  env: Record<string, string>
  remove(): void
}

interface Stages {
  build: Instruction[]
  runtime: Instruction[]
}

function readStages(): Stages {
  const all = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const start = all.map((i) => i.keyword).lastIndexOf('FROM')
  return { build: all.slice(0, start), runtime: all.slice(start) }
}

function stageEnv(stage: Instruction[], dir: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of stage.filter((i) => i.keyword === 'ENV'))
    for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) {
      const value = m[2] as string
      env[m[1] as string] = value.startsWith('/app/') ? join(dir, value.slice('/app/'.length)) : value
    }
  return env
}

/** The build stage's compile-cache warm-up (`node --input-type=module -e "…"`), run in `dir` as the bench's user. */
async function warmCompileCache(build: Instruction[], dir: string): Promise<void> {
  const run = build.find((i) => i.keyword === 'RUN' && i.args.includes('dist/server.js'))
  const [, flag, code] = /^node (--input-type=module) -e "([^"]+)"/.exec(run?.args ?? '') ?? []
  if (!flag || !code) throw new Error('the Dockerfile has no compile-cache warm-up the bench can run')
  await promisify(execFile)(process.execPath, [flag, '-e', code], {
    cwd: dir,
    env: { ...process.env, ...stageEnv(build, dir) },
    timeout: 60_000,
  })
}

/** Builds the image's /app in a temporary directory: `npm run build`'s bundle, the files the runtime stage copies, the warm cache. */
export async function buildImageLayout(): Promise<ImageLayout> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-image-'))
  const { build, runtime } = readStages()
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'scripts/build.mjs'), '--outdir', join(dir, 'dist')],
    { cwd: ROOT, timeout: 180_000 },
  )
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  copyFileSync(join(ROOT, 'openapi.yaml'), join(dir, 'openapi.yaml'))
  cpSync(join(ROOT, 'web'), join(dir, 'web'), { recursive: true })
  await warmCompileCache(build, dir)
  const cmd = runtime.find((i) => i.keyword === 'CMD')
  const [node, ...args] = JSON.parse(cmd?.args ?? '[]') as string[]
  if (node !== 'node' || args.at(-1) !== 'dist/server.js')
    throw new Error(`the bench runs node … dist/server.js; the Dockerfile's CMD is ${cmd?.args}`)
  return {
    dir,
    args,
    env: stageEnv(runtime, dir),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
