// The error catalogue of src/errors.ts, the README's error table and openapi.yaml say the same thing (both ways).
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ERROR_CATALOGUE, ERROR_CODES } from '../../src/errors.ts'
import { codeSpan, README, section, tableRows } from './markdown.ts'

const catalogue = Object.fromEntries(ERROR_CODES.map((code) => [code, ERROR_CATALOGUE[code].status]))

/** code → status from the `## Errors` table: one row per code, the status cell starts with the number. */
function readmeErrorTable(): Record<string, number> {
  const table: Record<string, number> = {}
  for (const [codeCell = '', statusCell = ''] of tableRows(section(README, 'Errors'))) {
    const code = codeSpan(codeCell)
    const status = /^(\d{3})\b/.exec(statusCell)?.[1]
    if (code === undefined || status === undefined) {
      throw new Error(
        `README error table row must be "| \`code\` | status ... |", got "| ${codeCell} | ${statusCell} |"`,
      )
    }
    if (code in table) throw new Error(`README error table lists ${code} twice`)
    table[code] = Number(status)
  }
  return table
}

describe('README error table', () => {
  it('when compared with ERROR_CATALOGUE, then every code has the same status, and the table has no other code', () => {
    expect(readmeErrorTable()).toEqual(catalogue)
  })
})

const OPENAPI = 'openapi.yaml'
const hasOpenapi = existsSync(OPENAPI)

type Json = Record<string, unknown>
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

describe('openapi.yaml error codes', () => {
  const load = (): { paths: Json; components: Json } => {
    const doc = parse(readFileSync(OPENAPI, 'utf8')) as Json
    return {
      paths: isJson(doc['paths']) ? doc['paths'] : {},
      components: isJson(doc['components']) ? doc['components'] : {},
    }
  }

  it.skipIf(!hasOpenapi)(
    'when openapi.yaml exists (checked automatically once the file is there), then its ErrorCode enum is exactly the catalogue',
    () => {
      const schemas = load().components['schemas'] as Json | undefined
      const errorCode = schemas?.['ErrorCode'] as Json | undefined
      const codes = (errorCode?.['enum'] ?? []) as string[]
      expect([...codes].sort(), 'components.schemas.ErrorCode.enum').toEqual([...ERROR_CODES].sort())
    },
  )

  it.skipIf(!hasOpenapi)(
    'when openapi.yaml exists (checked automatically once the file is there), then every error response sits under its catalogue status, and every code has one',
    () => {
      const { paths, components } = load()
      // A reusable response documents a code when its description starts with "<code> —".
      const responses = (components['responses'] ?? {}) as Json
      const codeOf = new Map<string, string>()
      for (const [name, response] of Object.entries(responses)) {
        const code = /^`?([a-z_]+)`?\s+—/.exec(String((response as Json)['description'] ?? ''))?.[1]
        if (code !== undefined) codeOf.set(`#/components/responses/${name}`, code)
      }
      expect([...codeOf.values()].sort(), 'codes documented by components.responses').toEqual(
        [...ERROR_CODES].sort(),
      )

      const placements: string[] = []
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(item as Json)) {
          if (!isJson(operation) || !isJson(operation['responses'])) continue
          for (const [status, response] of Object.entries(operation['responses'])) {
            const code = codeOf.get(String((response as Json)['$ref'] ?? ''))
            if (code === undefined) continue
            placements.push(`${method.toUpperCase()} ${path} ${status} ${code}`)
            expect(Number(status), `${method.toUpperCase()} ${path}: ${code} under ${status}`).toBe(
              catalogue[code],
            )
          }
        }
      }
      expect(placements.length).toBeGreaterThan(0)
    },
  )
})
