// Every file and § the README (and the CLI's --help) points at exists: links, repository paths, and sections of docs/.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli.ts'
import { README } from './markdown.ts'

/** Paths the README names that the build or a run creates; .gitignore lists each. */
const GENERATED = new Set(['dist/', 'test/e2e/artifacts/', 'bench/results.md', 'bench/results.json'])
const TOP_LEVEL =
  /^(\.ci|bench|bin|deploy|dist|docs|examples|scripts|src|test|web)\/|^(openapi\.yaml|package(-lock)?\.json|Dockerfile|\.dockerignore|tsconfig(\.build)?\.json)$/

/** Relative link targets `[text](path)` and code spans that name a repository path. */
function namedPaths(markdown: string): string[] {
  const links = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] ?? '').replace(/#.*$/, ''))
    .filter((target) => target !== '' && !/^[a-z]+:/.test(target))
  const spans = [...markdown.matchAll(/`([^`\n]+)`/g)]
    .map((m) => (m[1] ?? '').split(' ')[0] ?? '')
    .filter((path) => TOP_LEVEL.test(path) && !/[*<>$]/.test(path))
  return [...new Set([...links, ...spans])]
}

/** Every `§N` with the document it belongs to: the nearest `docs/*.md` within the 80 characters before it. */
function sectionReferences(text: string): { doc: string | undefined; section: string; at: string }[] {
  return [...text.matchAll(/§\s?(\d+(?:\.\d+)*)/g)].map((m) => {
    const before = text.slice(Math.max(0, (m.index ?? 0) - 80), m.index)
    const docs = [...before.matchAll(/docs\/[\w-]+\.md/g)]
    return { doc: docs.at(-1)?.[0], section: m[1] ?? '', at: `${before.slice(-40)}${m[0]}` }
  })
}

/** The numbered headings of a markdown file: `## 6. HTTP API` → 6, `### 6.1 Precise rules` → 6.1. */
function headings(path: string): Set<string> {
  const numbers = [...readFileSync(path, 'utf8').matchAll(/^#{2,4} (\d+(?:\.\d+)*[a-z]?)\.?\s/gm)]
  return new Set(numbers.map((m) => m[1] ?? ''))
}

function brokenSections(text: string): string[] {
  return sectionReferences(text).flatMap(({ doc, section, at }) => {
    if (!doc) return [`§${section} names no docs/*.md file: "${at}"`]
    if (!existsSync(doc)) return [`${doc} does not exist: "${at}"`]
    return headings(doc).has(section) ? [] : [`${doc} has no section ${section}: "${at}"`]
  })
}

describe('README references', () => {
  it('when the README links or names a repository path, then that file or directory exists', () => {
    const paths = namedPaths(README)
    expect(paths).toContain('docs/design.md')
    expect(paths.filter((p) => !GENERATED.has(p) && !existsSync(p))).toEqual([])
  })

  it('when the README cites a §, then it names a docs/ file that has that numbered section', () => {
    expect(sectionReferences(README).length).toBeGreaterThan(3)
    expect(brokenSections(README)).toEqual([])
  })

  it("when a command's --help cites a §, then it names a docs/ file that has that section", () => {
    const help = Object.values(COMMANDS)
      .map((c) => c.help)
      .join('\n')
    expect(brokenSections(help)).toEqual([])
  })

  it('when the deploy manifests point at a document, then it exists', () => {
    const manifests = readdirSync('deploy', { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
    const cited = manifests.flatMap((f) => [
      ...readFileSync(f, 'utf8').matchAll(/\b((?:docs\/)?[\w-]+\.md)\b/g),
    ])
    expect(cited.map((m) => m[1]).filter((p) => p && !existsSync(p))).toEqual([])
  })
})
