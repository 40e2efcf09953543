// Issue 17: policies/ is a pure engine with its own types; config/ depends on it, never the reverse.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileRules, loadConfig } from '../../../src/config/index.ts'
import { appUsers, configDoc } from '../../fixtures/rules.ts'

const DIR = 'src/policies'
const sources = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(DIR, f), 'utf8') }))

describe('the policies/ boundary (issue 17)', () => {
  it('when any file of src/policies is read, then it imports nothing from src/config', () => {
    const offenders = sources
      .filter(({ text }) => /from ['"]\.\.\/config\//.test(text))
      .map(({ file }) => file)
    expect(offenders).toEqual([])
  })

  it('when a function of src/policies/compile.ts is measured, then each is under 80 lines', () => {
    const text = sources.find((s) => s.file === 'compile.ts')?.text ?? ''
    const lines = text.split('\n')
    const long: string[] = []
    lines.forEach((line, i) => {
      const start = /^(export )?function (\w+)/.exec(line)
      if (!start) return
      const end = lines.findIndex((l, j) => j > i && l === '}')
      if (end - i + 1 >= 80) long.push(`${start[2]}: ${end - i + 1} lines`)
    })
    expect(long).toEqual([])
  })

  it('when a config is loaded and its rules asked for, then they are the rules compiled at load (once)', () => {
    const config = loadConfig(configDoc([appUsers(), appUsers({ id: 'second' })]))
    const first = compileRules(config)
    const again = compileRules(config)
    expect(first.map((r) => r.id)).toEqual(['app-users', 'second'])
    expect(again[0]).toBe(first[0])
    expect(first[0]?.config).toBe(config.rules[0])
  })
})
