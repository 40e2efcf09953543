// The README's exit-code table lists exactly the codes the CLI returns (EXIT in src/cli.ts).
import { describe, expect, it } from 'vitest'
import { EXIT } from '../../src/cli.ts'
import { README, section, tableRows } from './markdown.ts'

describe('README exit codes', () => {
  it('when compared with EXIT, then the table has one row per exit code and no other', () => {
    const documented = tableRows(section(README, 'Exit codes')).map(([code = '']) => Number(code))
    expect(documented.sort()).toEqual(Object.values(EXIT).sort())
  })
})
