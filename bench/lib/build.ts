// The production form of the service, as the container runs it: dist/ compiled by tsc, beside node_modules and openapi.yaml.
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './proc.ts'

export interface ImageLayout {
  /** The app directory: `node dist/server.js` runs from here. */
  dir: string
  remove(): void
}

/** Compiles src/ with tsconfig.build.json into a temporary app directory laid out like the image's /app. */
export async function buildImageLayout(): Promise<ImageLayout> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-image-'))
  try {
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(dir, 'dist'),
      ],
      { cwd: ROOT, timeout: 180_000 },
    )
  } catch (err) {
    // tsc emits despite type errors (work in progress elsewhere in the tree); only a missing entry point stops us.
    if (!existsSync(join(dir, 'dist', 'server.js'))) throw err
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  copyFileSync(join(ROOT, 'openapi.yaml'), join(dir, 'openapi.yaml'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
