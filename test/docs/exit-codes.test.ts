// The README's exit-code table lists exactly the codes the CLI returns (EXIT in src/cli.ts), and agrees with each command's --help.
import { describe, expect, it } from 'vitest'
import { COMMANDS, EXIT } from '../../src/cli.ts'
import { README, section, tableRows } from './markdown.ts'

const ROWS = tableRows(section(README, 'Exit codes')).map(([code = '', meaning = '']) => ({
  code: Number(code),
  meaning,
}))

/** code → meaning, from the "Exit codes: 0 …, 1 …; 2 …" paragraph of a command's --help. */
function helpExitCodes(help: string): Map<number, string> {
  const text = help
    .slice(help.indexOf('Exit codes:') + 'Exit codes:'.length)
    .replace(/\s+/g, ' ')
    .trim()
  return new Map([...text.matchAll(/(?:^|[,;] )(\d) ([^,;]*)/g)].map((m) => [Number(m[1]), m[2] ?? '']))
}

describe('README exit codes', () => {
  it('when compared with EXIT, then the table has one row per exit code and no other', () => {
    expect(ROWS.map((r) => r.code).sort()).toEqual(Object.values(EXIT).sort())
  })

  it.each(Object.keys(COMMANDS))(
    'when sts-vend %s --help is read, then it lists its exit codes and each is a row of the table',
    (name) => {
      const help = COMMANDS[name]?.help ?? ''
      expect(help).toContain('Exit codes:')
      const codes = [...helpExitCodes(help).keys()]
      expect(codes).toContain(0)
      expect(codes.filter((code) => !ROWS.some((r) => r.code === code))).toEqual([])
    },
  )

  it("when a row names a command, then that command's --help lists the row's code", () => {
    const missing: string[] = []
    for (const { code, meaning } of ROWS) {
      for (const [, name = ''] of meaning.matchAll(/`([a-z-]+)`/g)) {
        const help = COMMANDS[name]?.help
        if (help !== undefined && !helpExitCodes(help).has(code)) missing.push(`${name}: ${code}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('when the table says serve exits 1 when it cannot listen, then serve --help says so too', () => {
    expect(ROWS.find((r) => r.code === 1)?.meaning).toContain('`serve` cannot listen')
    expect(helpExitCodes(COMMANDS['serve']?.help ?? '').get(1)).toContain('cannot listen')
  })

  it('when every row is read, then each code is returned by at least one command, per its --help', () => {
    const listed = new Set(Object.values(COMMANDS).flatMap((c) => [...helpExitCodes(c.help).keys()]))
    expect(ROWS.map((r) => r.code).filter((code) => !listed.has(code))).toEqual([])
  })
})
