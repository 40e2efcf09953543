import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'
import { validConfig } from './valid-config.ts'

function problems(raw: unknown): { path: string; message: string }[] {
  try {
    loadConfig(raw)
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems]
    throw err
  }
  return []
}

describe('console section', () => {
  it('when the console client id is not an audience of its issuer, then console.clientId is refused', () => {
    const raw = { ...validConfig(), console: { issuer: 'corp', clientId: 'sts-vend-console' } }
    raw.issuers[0]!['audiences'] = ['sts-vend']
    const found = problems(raw)
    expect(found.map((p) => p.path)).toEqual(['console.clientId'])
    expect(found[0]?.message).toContain('sts-vend-console')
  })

  it('when the client id is among the audiences, then the console loads with its default scopes', () => {
    const raw = validConfig()
    const config = loadConfig({ ...raw, console: { issuer: 'corp', clientId: 'sts-vend-console' } })
    expect(config.console).toEqual({
      issuer: 'corp',
      clientId: 'sts-vend-console',
      scopes: ['openid', 'profile'],
    })
  })

  it('when the console names an unknown issuer, then only console.issuer is reported', () => {
    const raw = { ...validConfig(), console: { issuer: 'nope', clientId: 'x' } }
    expect(problems(raw).map((p) => p.path)).toEqual(['console.issuer'])
  })
})
