// The README's configuration reference and the zod schema agree: every key, whether it is required, and its default.
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { z } from 'zod'
import { configSchema } from '../../src/config/index.ts'
import { codeSpan, README, section, tableRows } from './markdown.ts'

type Json = Record<string, unknown>
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

interface SchemaKey {
  required: boolean
  hasDefault: boolean
  default: unknown
  /** True when the key holds further keys (an object, a list of objects or a map). */
  container: boolean
}

/** Every key of the schema, written as the README writes it: `rules[].oss.prefix`, `rules[].when.<claim>.in`. */
function schemaKeys(): Map<string, SchemaKey> {
  const keys = new Map<string, SchemaKey>()
  const nested = (node: Json, prefix: string): boolean => {
    let found = false
    for (const branch of [...((node['anyOf'] as Json[]) ?? []), ...((node['oneOf'] as Json[]) ?? [])]) {
      found = nested(branch, prefix) || found
    }
    if (isJson(node['properties'])) {
      found = true
      const required = new Set((node['required'] as string[] | undefined) ?? [])
      for (const [name, child] of Object.entries(node['properties'] as Record<string, Json>)) {
        const path = prefix === '' ? name : `${prefix}.${name}`
        const entry: SchemaKey = {
          required: required.has(name),
          hasDefault: 'default' in child,
          default: child['default'],
          container: false,
        }
        keys.set(path, entry)
        entry.container = nested(child, path)
      }
    }
    if (isJson(node['items'])) found = nested(node['items'], `${prefix}[]`) || found
    // The only map in the config is a rule's `when`, keyed by claim name.
    if (isJson(node['additionalProperties']))
      found = nested(node['additionalProperties'], `${prefix}.<claim>`) || found
    return found
  }
  nested(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json, '')
  return keys
}

/** key → default cell of the `## Configuration reference` table. */
function readmeKeys(): Map<string, string> {
  const rows = new Map<string, string>()
  for (const [keyCell = '', meaning = '', defaultCell = ''] of tableRows(
    section(README, 'Configuration reference'),
  )) {
    const key = codeSpan(keyCell)
    if (key === undefined || meaning === '' || defaultCell === '') {
      throw new Error(
        `config reference row must be "| \`key\` | meaning | default |", got "| ${keyCell} | ..."`,
      )
    }
    if (rows.has(key)) throw new Error(`config reference lists ${key} twice`)
    rows.set(key, defaultCell)
  }
  return rows
}

describe('README configuration reference', () => {
  const schema = schemaKeys()
  const readme = readmeKeys()

  it('when compared with the schema, then every key that holds a value has its own row', () => {
    const leaves = [...schema].filter(([, k]) => !k.container).map(([path]) => path)
    expect(leaves.filter((path) => !readme.has(path))).toEqual([])
  })

  it('when compared with the schema, then every row names a real key (no stale or misspelt rows)', () => {
    expect([...readme.keys()].filter((path) => !schema.has(path))).toEqual([])
  })

  it('when a row gives a default, then it is exactly the schema default; "required" and "optional" rows have none', () => {
    const mismatches: string[] = []
    for (const [path, cell] of readme) {
      const key = schema.get(path)
      if (!key) continue
      const literal = codeSpan(cell)
      if (cell.startsWith('required')) {
        if (!key.required) mismatches.push(`${path}: README says required, the schema does not`)
      } else if (cell === 'optional') {
        if (key.required || key.hasDefault)
          mismatches.push(`${path}: README says optional, the schema requires it or has a default`)
      } else if (literal !== undefined) {
        if (!key.hasDefault) mismatches.push(`${path}: README gives a default, the schema has none`)
        else if (JSON.stringify(parse(literal)) !== JSON.stringify(key.default)) {
          mismatches.push(`${path}: README default ${literal}, schema default ${JSON.stringify(key.default)}`)
        }
      } else {
        mismatches.push(
          `${path}: the default cell must be \`value\`, "required…" or "optional", got "${cell}"`,
        )
      }
    }
    expect(mismatches).toEqual([])
  })

  it('when the README is read, then it says unknown keys are errors and shows the two entry commands', () => {
    expect(section(README, 'Configuration reference')).toMatch(/unknown keys are errors/i)
    expect(README).toContain('npm install && npm run dev')
    expect(README).toContain('npm install && npm test')
  })
})
