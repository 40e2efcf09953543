import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'

describe('loadConfig', () => {
  it('when given the bundled example, then it loads with defaults applied', () => {
    const config = loadConfig(readFileSync('examples/config.yaml', 'utf8'))
    expect(config.rules.map((r) => r.id)).toEqual(['app-users', 'ossbrowser-analysts', 'partner-broker'])
    expect(config.rules[1]?.conditions).toEqual({ sourceIp: null, secureTransport: true })
  })

  it('when the document is not a mapping, then it is a ConfigError', () => {
    expect(() => loadConfig('- a\n- b\n')).toThrow(ConfigError)
  })
})
