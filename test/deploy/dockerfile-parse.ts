// A small Dockerfile reader for the deploy tests: instructions with continuations joined and comments dropped.

/** One instruction; `line` is where it starts (1-based). */
export interface Instruction {
  keyword: string
  args: string
  line: number
}

/** The Dockerfile's instructions: comments dropped, `\` continuations joined, keywords upper-cased. */
export function parseDockerfile(source: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  source.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd()
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return
    if (pending !== '' && line.trim().startsWith('#')) return
    if (pending === '') start = index + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      return
    }
    const full = (pending + line).trim()
    pending = ''
    const keyword = full.split(/\s+/)[0] ?? ''
    out.push({ keyword: keyword.toUpperCase(), args: full.slice(keyword.length).trim(), line: start })
  })
  return out
}
