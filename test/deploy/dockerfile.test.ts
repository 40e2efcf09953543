// The Dockerfile: linted (dockerfile-utils), multi-stage, pinned Node LTS, non-root, HEALTHCHECK, the exact CMD, a tight .dockerignore.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type Instruction, parseDockerfile } from './dockerfile-parse.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const text = readFileSync(join(root, 'Dockerfile'), 'utf8')

const instructions = parseDockerfile(text)
const stages: Instruction[][] = []
for (const instruction of instructions) {
  if (instruction.keyword === 'FROM') stages.push([])
  stages.at(-1)?.push(instruction)
}
const final = stages.at(-1) ?? []
const all = (keyword: string, list = instructions) => list.filter((i) => i.keyword === keyword)

/** Strips a leading `--flag=value` list from an instruction's arguments. */
function withoutFlags(args: string): string[] {
  return args.split(/\s+/).filter((part) => !part.startsWith('--'))
}

describe('Dockerfile lint', () => {
  it('when validated by dockerfile-utils with every check as an error, then it reports nothing', async () => {
    // A JavaScript Dockerfile linter: no hadolint binary can be installed here (not a Debian bookworm package;
    // the npm "hadolint" package downloads the binary at run time). The hadolint rules that apply are
    // asserted structurally below.
    const name = 'dockerfile-utils'
    let utils: {
      validate(content: string, settings?: Record<string, number>): { message: string; range: unknown }[]
    }
    try {
      utils = await import(name)
    } catch {
      throw new Error('dockerfile-utils is not installed: it is a devDependency of sts-vend (npm ci)')
    }
    const error = 2
    const diagnostics = utils.validate(text, {
      deprecatedMaintainer: error,
      directiveCasing: error,
      emptyContinuationLine: error,
      instructionCasing: error,
      instructionCmdMultiple: error,
      instructionEntrypointMultiple: error,
      instructionHealthcheckMultiple: error,
      instructionJSONInSingleQuotes: error,
      instructionWorkdirRelative: error,
    })
    expect(diagnostics).toEqual([])
    // The linter does find problems: a Dockerfile with three of them reports three.
    expect(
      utils.validate('FROM node:20\nMAINTAINER me\nWORKDIR app\nEXPOSE http\n', {
        deprecatedMaintainer: error,
        instructionWorkdirRelative: error,
      }),
    ).toHaveLength(3)
  })

  it('when the parser reads a continuation, then it joins the lines', () => {
    expect(parseDockerfile('FROM a:1\n# c\nRUN x \\\n  && y\nCMD ["z"]\n')).toEqual([
      { keyword: 'FROM', args: 'a:1', line: 1 },
      { keyword: 'RUN', args: 'x    && y', line: 3 },
      { keyword: 'CMD', args: '["z"]', line: 5 },
    ])
  })
})

describe('Dockerfile structure', () => {
  it('when built, then there is a build stage and a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(all('FROM')[0]?.args).toMatch(/ AS build$/i)
    expect(all('COPY', final).some((c) => c.args.startsWith('--from=build '))).toBe(true)
  })

  it('when a base image is named, then it is one Node LTS image (22, 24 or 26) within the engines range, pinned to an exact version, never latest (DL3006/DL3007)', () => {
    const images = all('FROM').map((f) => f.args.split(/\s+/)[0] ?? '')
    for (const image of images) {
      expect(image).toMatch(/^node:(22|24|26)\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/)
      expect(image).not.toMatch(/latest/)
    }
    expect(new Set(images).size).toBe(1)
    const [major, minor] = (/^node:(\d+)\.(\d+)/.exec(images[0] ?? '') ?? []).slice(1).map(Number)
    const engines = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node
    const [, eMajor, eMinor] = (/>=(\d+)\.(\d+)/.exec(engines) ?? []).map(Number)
    expect(eMajor).toBeGreaterThanOrEqual(22)
    expect(major).toBeGreaterThanOrEqual(eMajor ?? Number.POSITIVE_INFINITY)
    if (major === eMajor) expect(minor).toBeGreaterThanOrEqual(eMinor ?? 0)
  })

  it('when dependencies are installed, then npm ci from the lockfile, a build, and dev dependencies pruned', () => {
    const runs = all('RUN', stages[0]).map((r) => r.args)
    expect(runs.some((r) => /^npm ci\b/.test(r))).toBe(true)
    expect(runs.some((r) => r.includes('npm run build'))).toBe(true)
    expect(runs.some((r) => /npm prune --omit=dev|npm ci [^&]*--omit=dev/.test(r))).toBe(true)
    expect(runs.some((r) => /\bnpm install\b|\bnpm i\b/.test(r))).toBe(false)
    expect(all('COPY', stages[0]).some((c) => c.args.includes('package-lock.json'))).toBe(true)
  })

  it('when the image runs, then as the non-root user node (DL3002)', () => {
    const users = all('USER', final)
    expect(users.at(-1)?.args).toBe('node')
    expect(users.some((u) => /^(root|0)(:|$)/.test(u.args))).toBe(false)
  })

  it('when started, then CMD runs node on dist/server.js in exec form (DL3025), its old space sized from the cgroup limit', () => {
    const cmds = all('CMD', final)
    expect(cmds).toHaveLength(1)
    expect(JSON.parse(cmds[0]?.args ?? '')).toEqual([
      'node',
      '--max-old-space-size-percentage=50',
      '--min-semi-space-size=16',
      '--max-semi-space-size=16',
      '--disable-warning=DEP0169',
      'dist/server.js',
    ])
    expect(all('ENTRYPOINT', final)).toEqual([])
  })

  it('when the image is built, then the compile cache is warmed as node at the runtime paths and copied into the runtime stage', () => {
    const cacheEnv = (list: Instruction[]) =>
      all('ENV', list).some((e) => /(^|\s)NODE_COMPILE_CACHE=\/app\/\.compile-cache(\s|$)/.test(e.args))
    const build = stages[0] ?? []
    expect(cacheEnv(build)).toBe(true)
    expect(cacheEnv(final)).toBe(true)
    const warm = all('RUN', build).find((r) => r.args.includes("import('./dist/server.js')"))
    expect(warm?.args).toContain("import('./dist/cli.js')")
    expect(warm?.args).toMatch(/chmod -R a\+rX \/app\/\.compile-cache/)
    // Node names the cache directory after the user id: the warm runs as the user the image runs as.
    const before = build.slice(0, build.indexOf(warm as Instruction))
    expect(all('USER', before).at(-1)?.args).toBe('node')
    expect(all('COPY', final).map((c) => c.args)).toContain(
      '--from=build /app/.compile-cache ./.compile-cache',
    )
    // In the build stage the bundle sits where the runtime stage puts it: same WORKDIR, the cache keys match.
    expect(all('WORKDIR', build).map((w) => w.args)).toEqual(all('WORKDIR', final).map((w) => w.args))
  })

  it('when running, then NODE_ENV=production, the config path is /etc/sts-vend/config.yaml and 8080 is exposed', () => {
    const env = all('ENV', final)
      .map((e) => e.args)
      .join(' ')
    expect(env).toMatch(/(^|\s)NODE_ENV=production(\s|$)/)
    expect(env).toMatch(/(^|\s)STS_VEND_CONFIG=\/etc\/sts-vend\/config\.yaml(\s|$)/)
    expect(all('EXPOSE', final).map((e) => e.args)).toEqual(['8080'])
    expect(text).toMatch(/host: 0\.0\.0\.0/)
  })

  it('when health is checked, then HEALTHCHECK runs node (no curl in slim images) against /healthz', () => {
    const checks = all('HEALTHCHECK', final)
    expect(checks).toHaveLength(1)
    const command = JSON.parse(checks[0]?.args.replace(/^(--\S+\s+)*CMD\s+/, '') ?? '') as string[]
    expect(command.slice(0, 2)).toEqual(['node', '-e'])
    expect(command[2]).toContain('/healthz')
    expect(checks[0]?.args).toMatch(/--timeout=\d+s/)
  })

  it('when the hadolint rules that apply are checked, then ADD, cd, sudo, relative WORKDIR and secrets in ENV/ARG are absent', () => {
    expect(all('ADD')).toEqual([]) // DL3020
    for (const run of all('RUN')) {
      expect(run.args).not.toMatch(/(^|&&|;)\s*cd\s/) // DL3003
      expect(run.args).not.toMatch(/\bsudo\b/) // DL3004
    }
    for (const workdir of all('WORKDIR')) expect(workdir.args.startsWith('/')).toBe(true) // DL3000
    for (const item of [...all('ENV'), ...all('ARG')])
      expect(item.args).not.toMatch(/SECRET|PASSWORD|ACCESS_KEY|TOKEN/i)
  })
})

describe('what the image contains', () => {
  const contextCopies = all('COPY').filter((c) => !c.args.includes('--from='))
  const sources = contextCopies.flatMap((c) => withoutFlags(c.args).slice(0, -1))
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))

  it('when the build context is sent, then .dockerignore excludes everything but what COPY reads', () => {
    expect(ignore[0]).toBe('**')
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1))
    expect(new Set(sources)).toEqual(new Set(allowed))
    for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true)
    for (const never of ['node_modules', '.git', '.env', 'dist', 'test', 'coverage'])
      expect(allowed.some((a) => a === never || a.startsWith(`${never}/`))).toBe(false)
  })

  it('when the code reads a file from the package root at run time, then the runtime stage copies it', () => {
    const copiedToRuntime = new Set(
      all('COPY', final).map((c) => {
        const parts = withoutFlags(c.args)
        const source = parts.at(-2) ?? ''
        return source.split('/').filter(Boolean).at(-1)
      }),
    )
    const walk = (folder: string): string[] =>
      readdirSync(folder).flatMap((name) => {
        const path = join(folder, name)
        return statSync(path).isDirectory() ? walk(path) : name.endsWith('.ts') ? [path] : []
      })
    const needed = new Set<string>()
    for (const file of walk(join(root, 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/new URL\(\s*'(\.\.\/[^']+)',\s*import\.meta\.url\s*\)/g)) {
        const target = relative(root, resolve(dirname(file), m[1] as string))
        if (!target.startsWith('src/') && !target.startsWith('..')) needed.add(target.split('/')[0] as string)
      }
      // src/package-root.ts: files named from the package root, wherever the code was bundled to.
      for (const m of text.matchAll(/new URL\(\s*'([^']+)',\s*PACKAGE_ROOT\s*\)/g))
        needed.add((m[1] as string).split('/')[0] as string)
    }
    expect([...needed]).toContain('openapi.yaml')
    expect([...needed]).toContain('web')
    for (const entry of needed) expect(copiedToRuntime, entry).toContain(entry)
  })
})
