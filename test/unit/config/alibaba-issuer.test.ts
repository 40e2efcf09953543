// Issuers of `type: alibaba-identity` (design §14, issue 21): accepted shape, refusals with their paths.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'
import { type RawConfig, validConfig } from './valid-config.ts'

const ALIBABA = {
  id: 'alicloud',
  type: 'alibaba-identity',
  audience: 'sts-vend.example.com',
  accounts: ['1000000000000002'],
  stsEndpoint: 'sts-vpc.cn-hangzhou.aliyuncs.com',
}

function withAlibaba(change: (issuer: Record<string, unknown>, config: RawConfig) => void = () => {}) {
  const config = validConfig()
  const issuer: Record<string, unknown> = { ...ALIBABA }
  config.issuers.push(issuer)
  config.rules.push({
    ...structuredClone(config.rules[0]),
    id: 'partner',
    issuer: 'alicloud',
    when: { 'alibaba.accountId': { equals: '1000000000000002' } },
    sessionName: 'partner-${alibaba.userName}',
    oss: { ...structuredClone(config.rules[0]?.oss), prefix: 'partners/${alibaba.accountId}/' },
  } as RawConfig['rules'][number])
  change(issuer, config)
  return config
}

function problems(config: RawConfig): string[] {
  try {
    loadConfig(config)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)
  }
  throw new Error('expected a ConfigError, the config was accepted')
}

describe('issuers of type alibaba-identity', () => {
  it('when an alibaba-identity issuer sits beside an OIDC issuer without a type, then both load and the OIDC one reads as oidc', () => {
    const config = loadConfig(withAlibaba())
    expect(config.issuers.map((i) => i.type)).toEqual(['oidc', 'alibaba-identity'])
    expect(config.issuers[1]).toEqual(ALIBABA)
  })

  it('when a rule template uses ${alibaba.NAME}, then it loads like ${claim.alibaba.NAME}; an unknown field is refused', () => {
    expect(() => loadConfig(withAlibaba())).not.toThrow()
    const bad = withAlibaba((_, c) => {
      ;(c.rules[1] as Record<string, unknown>)['sessionName'] = '${alibaba.secret}'
    })
    expect(problems(bad).join('\n')).toMatch(/rules\[1\].*alibaba\.secret/)
  })

  it.each([
    ['accounts', ['123'], 'issuers[1].accounts[0]: must be a 16-digit account id'],
    ['accounts', [], 'issuers[1].accounts: at least one account is required'],
    ['stsEndpoint', 'https://sts.aliyuncs.com/', 'issuers[1].stsEndpoint: must be host[:port]'],
    ['audience', '', 'issuers[1].audience: must be 1-255'],
  ])('when %s is %j, then it is refused at its path', (key, value, expected) => {
    const config = withAlibaba((issuer) => {
      issuer[key] = value
    })
    expect(problems(config).join('\n')).toContain(expected)
  })

  it('when an alibaba-identity issuer carries an OIDC key (audiences), then it is an unknown key', () => {
    const config = withAlibaba((issuer) => {
      issuer['audiences'] = ['x']
    })
    expect(problems(config)).toContain('issuers[1]: unknown key: audiences')
  })

  it('when sts.protocol is http and stsEndpoint is not loopback, then it is refused; a loopback endpoint loads', () => {
    const remote = withAlibaba((_, c) => {
      c['sts'] = { protocol: 'http', endpoint: '127.0.0.1:9000' }
    })
    expect(problems(remote)).toContain(
      'issuers[1].stsEndpoint: sts.protocol is http: refused unless stsEndpoint is a loopback host',
    )
    const local = withAlibaba((issuer, c) => {
      c['sts'] = { protocol: 'http', endpoint: '127.0.0.1:9000' }
      issuer['stsEndpoint'] = '127.0.0.1:9000'
    })
    expect(() => loadConfig(local)).not.toThrow()
  })

  it('when two alibaba-identity issuers share an audience, then the second is refused', () => {
    const config = withAlibaba((_, c) => {
      c.issuers.push({ ...ALIBABA, id: 'alicloud-2' })
    })
    expect(problems(config).join('\n')).toContain(
      'issuers[2].audience: duplicate audience "sts-vend.example.com"',
    )
  })

  it('when the type is unknown, then the discriminator is refused', () => {
    const config = withAlibaba((issuer) => {
      issuer['type'] = 'saml'
    })
    expect(problems(config).join('\n')).toMatch(/issuers\[1\]\.type/)
  })
})
