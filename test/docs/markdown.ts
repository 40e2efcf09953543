// Reads the README the way its doc-sync tests need: one `## ` section, and the rows of its table.
import { readFileSync } from 'node:fs'

export const README = readFileSync('README.md', 'utf8')

/** The text of the `## title` section, up to the next `## ` heading. Throws when the section is missing. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => line.trim() === `## ${title}`)
  if (start === -1) throw new Error(`README.md has no "## ${title}" section`)
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '))
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n')
}

/** The body rows of the first table in `text`, as trimmed cells (header and separator rows dropped). */
export function tableRows(text: string): string[][] {
  const rows: string[][] = []
  let inTable = false
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('|')) {
      if (inTable) break
      continue
    }
    inTable = true
    rows.push(splitRow(line))
  }
  return rows.slice(2)
}

// As GitHub renders tables: cells split at every `|` not escaped as `\|`, even inside code spans.
function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim())
}

/** The text of a cell that is exactly one code span (`` `x` ``), else undefined. */
export function codeSpan(cell: string): string | undefined {
  return /^`([^`]+)`$/.exec(cell)?.[1]
}
