// Keeps security-cases.md, catalogue.ts and the group test files in sync (the "catalogue ↔ docs" habit of style.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CATALOGUE, GROUP_FILES, type Group } from './catalogue.ts'

const here = dirname(fileURLToPath(import.meta.url))
/** The catalogue of hostile cases, kept in the repository. */
const CASES_MD = resolve(here, '../../docs/security-cases.md')
const SECTION_GROUP: Record<string, Group> = {
  '2a': 'jwt',
  '2b': 'template',
  '2c': 'http',
  '2d': 'upstream',
  '2e': 'secrets',
  '2f': 'dos',
}

/** SEC id → group, from the table rows of §2 (`| SEC-001 | … |`) under their `### 2x.` headings. */
function documentedCases(text: string): Map<string, Group> {
  const out = new Map<string, Group>()
  let group: Group | undefined
  for (const line of text.split('\n')) {
    const heading = /^### (2[a-f])\./.exec(line)
    if (heading) group = SECTION_GROUP[heading[1] ?? '']
    if (/^## [^2]/.test(line)) group = undefined
    const row = /^\| (SEC-\d{3}) \|/.exec(line)
    if (row && group) out.set(row[1] ?? '', group)
  }
  return out
}

const testFiles = readdirSync(here).filter((f) => f.endsWith('.test.ts') && f !== 'sync.test.ts')
const sources = new Map(testFiles.map((f) => [f, readFileSync(join(here, f), 'utf8')]))

describe('security catalogue sync', () => {
  it('when security-cases.md is read, then it lists the 104 catalogued ids, each in catalogue.ts under its group', () => {
    expect(existsSync(CASES_MD), CASES_MD).toBe(true)
    const documented = documentedCases(readFileSync(CASES_MD, 'utf8'))
    expect(documented.size).toBe(104)
    const catalogued = new Map(CATALOGUE.map((c) => [c.id, c.group]))
    expect(CATALOGUE.length, 'one record per id').toBe(catalogued.size)
    expect(
      [...documented.keys()].filter((id) => !catalogued.has(id)),
      'documented but not catalogued',
    ).toEqual([])
    expect(
      [...catalogued.keys()].filter((id) => !documented.has(id)),
      'catalogued but not documented',
    ).toEqual([])
    for (const [id, group] of documented) expect(catalogued.get(id), id).toBe(group)
  })

  it('when a record has no requests of its own, then its group file has a test whose title starts with its id', () => {
    const missing: string[] = []
    for (const record of CATALOGUE) {
      const source = sources.get(GROUP_FILES[record.group]) ?? ''
      if (record.build) {
        if (!source.includes(`runCatalogued('${record.group}'`)) missing.push(`${record.id} (runner)`)
        if (!record.expect) missing.push(`${record.id} (expectation)`)
      } else if (!new RegExp(`['"\`]${record.id} `).test(source)) {
        missing.push(record.id)
      }
    }
    expect(missing).toEqual([])
  })

  it('when a test title starts with a SEC id, then that id is catalogued', () => {
    const known = new Set(CATALOGUE.map((c) => c.id))
    const strays: string[] = []
    for (const [file, source] of sources)
      for (const match of source.matchAll(/['"`](SEC-\d{3}) /g))
        if (!known.has(match[1] ?? '')) strays.push(`${file}: ${match[1]}`)
    expect(strays).toEqual([])
  })

  it('when the groups are listed, then every group file exists', () => {
    for (const file of Object.values(GROUP_FILES)) expect(sources.has(file), file).toBe(true)
  })
})
