// Keeps every function in src/ short enough to read in one screen (issue 17): 80 lines at most.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { functionLengths, functionLengthsIn } from './function-lengths.ts'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))
const MAX_LINES = 80

/** A function of exactly `lines` lines (signature and closing brace included). */
function functionOf(name: string, lines: number): string {
  const body = Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i}`)
  return [`export function ${name}() {`, ...body, '}'].join('\n')
}

const over = (lengths: ReturnType<typeof functionLengths>) =>
  lengths.filter((f) => f.lines > MAX_LINES).map((f) => `${f.where} ${f.name} (${f.lines} lines)`)

describe('function lengths in src/', () => {
  it('when every function in src/ is measured, then none exceeds 80 lines', () => {
    const lengths = functionLengths(SRC)
    expect(lengths.length).toBeGreaterThan(500)
    expect(over(lengths)).toEqual([])
  })

  it('when an 81-line function is planted, then it is reported with its place and length', () => {
    const text = `// planted\n${functionOf('tooLong', 81)}\n\n${functionOf('justShort', 80)}\n`
    const lengths = functionLengthsIn('planted.ts', text)
    expect(lengths).toContainEqual({ where: 'planted.ts:2', name: 'tooLong', lines: 81 })
    expect(lengths).toContainEqual({ where: 'planted.ts:84', name: 'justShort', lines: 80 })
    expect(over(lengths)).toEqual(['planted.ts:2 tooLong (81 lines)'])
  })

  it('when a nested arrow and a method are planted, then each is measured on its own', () => {
    const text = [
      'class A {',
      '  m() {',
      '    const inner = () => {',
      '      return 1',
      '    }',
      '    return inner()',
      '  }',
      '}',
    ].join('\n')
    expect(functionLengthsIn('nested.ts', text)).toEqual([
      { where: 'nested.ts:2', name: 'm', lines: 6 },
      { where: 'nested.ts:3', name: 'inner', lines: 3 },
    ])
  })
})
