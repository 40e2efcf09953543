import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { runCli } from '../../../src/cli.ts'
import { appUsers, CORP_ISS, configDoc } from '../../fixtures/rules.ts'

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-explain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const config = file(
  'config.yaml',
  stringify(
    configDoc([
      appUsers({ id: 'admins', when: { groups: { contains: 'admins' } }, oss: { prefix: 'admin/${sub}/' } }),
      appUsers({ conditions: { sourceIp: 'request', secureTransport: true } }),
    ]),
  ),
)
const badConfig = file('bad.yaml', stringify(configDoc([appUsers({ oss: { prefix: 'users/*/${sub}/' } })])))
const aliceClaims = file('alice.json', JSON.stringify({ iss: CORP_ISS, sub: 'alice', groups: ['photo-app'] }))
const bobClaims = file('bob.json', JSON.stringify({ iss: CORP_ISS, sub: 'bob', groups: [] }))
const strangerClaims = file('stranger.json', JSON.stringify({ iss: 'https://evil.example/', sub: 'alice' }))
const hostileClaims = file(
  'hostile.json',
  JSON.stringify({ iss: CORP_ISS, sub: 'a/../b', groups: ['photo-app'] }),
)
const noSub = file('nosub.json', JSON.stringify({ iss: CORP_ISS, groups: ['photo-app'] }))
const notJson = file('notjson.json', '{"iss":')

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(['explain', ...argv], {
    out: (t) => {
      out += t
    },
    err: (t) => {
      err += t
    },
    env: {},
  })
  return { code, out, err }
}

describe('sts-vend explain (in process)', () => {
  it('when the caller matches, then the text trace shows rules, grant, policy and checks, and exits 0', async () => {
    const r = await cli(
      '--config',
      config,
      '--claims',
      aliceClaims,
      '--check',
      'oss:PutObject:users/alice/a.jpg',
      '--source-ip',
      '10.1.2.3',
    )
    expect(r.code).toBe(0)
    expect(r.out).toContain('admins     no     when.groups contains: no element equals the expected value')
    expect(r.out).toContain('app-users  match  matched: every condition holds')
    expect(r.out).toContain('rule: app-users')
    expect(r.out).toContain('roleArn: acs:ram::1234567890123456:role/oss-app-user')
    expect(r.out).toContain('sessionName: app-alice')
    expect(r.out).toContain('durationSeconds: 3600')
    expect(r.out).toMatch(/policyLength: \d+ \(worst case for the rule \d+, STS limit 2048\)/)
    expect(r.out).toContain('"acs:SourceIp": "10.1.2.3/32"')
    expect(r.out).toContain('allow  oss:PutObject  "examplebucket/users/alice/a.jpg"  (statement 0)')
    expect(r.out).toContain('decision: allowed')
  })

  it('when --json is given, then it prints the simulate answer with a decision', async () => {
    const r = await cli(
      '--config',
      config,
      '--claims',
      aliceClaims,
      '--check',
      'oss:GetObject:users/bob/a',
      '--json',
    )
    expect(r.code).toBe(3)
    const body = JSON.parse(r.out)
    expect(Object.keys(body)).toEqual([
      'decision',
      'rule',
      'roleArn',
      'sessionName',
      'durationSeconds',
      'policy',
      'policyLength',
      'worstCaseLength',
      'rules',
      'checks',
    ])
    expect(body.decision).toBe('denied')
    expect(body.policyLength).toBe(body.policy.length)
    expect(body.policy).toContain('"acs:SourceIp":"127.0.0.1/32"')
    expect(body.checks).toEqual([
      {
        action: 'oss:GetObject',
        bucket: 'examplebucket',
        key: 'users/bob/a',
        allowed: false,
        statement: null,
      },
    ])
  })

  it('when no rule matches, then it prints why each rule did not and exits 3', async () => {
    const r = await cli('--config', config, '--claims', bobClaims)
    expect(r.code).toBe(3)
    expect(r.out).toContain('app-users  no     when.groups contains: no element equals the expected value')
    expect(r.out).toContain('decision: denied (no_rule_matched)')
  })

  it('when the request asks for more than the grant, then it is denied with the reason and exits 3', async () => {
    const r = await cli(
      '--config',
      config,
      '--claims',
      aliceClaims,
      '--request',
      '{"access":"read-write-delete"}',
      '--json',
    )
    expect(r.code).toBe(3)
    expect(JSON.parse(r.out)).toMatchObject({
      decision: 'denied',
      error: 'access_denied',
      reason: 'access_wider',
      rule: 'app-users',
    })
  })

  it('when a claim is unusable, then it names the claim, not its value, and exits 3', async () => {
    const r = await cli('--config', config, '--claims', hostileClaims)
    expect(r.code).toBe(3)
    expect(r.out).toContain(
      'rule app-users matched, but claim_unusable: sub is outside the allowed characters',
    )
    expect(r.out.split('\n').filter((l) => l.includes('a/../b') && !l.startsWith('caller:'))).toEqual([])
  })

  it('when the issuer is not configured, then it says so and exits 3', async () => {
    const r = await cli('--config', config, '--claims', strangerClaims)
    expect(r.code).toBe(3)
    expect(r.out).toContain('no configured issuer has issuer "https://evil.example/"')
  })

  it('when the request narrows, then the policy is the narrowed one', async () => {
    const r = await cli(
      '--config',
      config,
      '--claims',
      aliceClaims,
      '--request',
      '{"prefix":"users/alice/a.jpg","durationSeconds":900}',
      '--json',
    )
    expect(r.code).toBe(0)
    const body = JSON.parse(r.out)
    expect(body.durationSeconds).toBe(900)
    expect(JSON.parse(body.policy).Statement).toHaveLength(1)
  })

  it.each<[string, string[], number]>([
    ['an invalid config', ['--config', badConfig, '--claims', aliceClaims], 1],
    ['a missing config file', ['--config', join(dir, 'none.yaml'), '--claims', aliceClaims], 1],
    ['an unreadable claims file', ['--config', config, '--claims', join(dir, 'none.json')], 1],
    ['claims that are not JSON', ['--config', config, '--claims', notJson], 1],
    ['claims without sub', ['--config', config, '--claims', noSub], 1],
    ['a --request that is not JSON', ['--config', config, '--claims', aliceClaims, '--request', '{'], 1],
    [
      'a --request with an unknown field',
      ['--config', config, '--claims', aliceClaims, '--request', '{"roleArn":"x"}'],
      1,
    ],
    [
      'a --request with a malformed prefix',
      ['--config', config, '--claims', aliceClaims, '--request', '{"prefix":"../x"}'],
      1,
    ],
    [
      'a --request with a duration above the max',
      ['--config', config, '--claims', aliceClaims, '--request', '{"durationSeconds":7200}'],
      1,
    ],
    ['no --claims', ['--config', config], 2],
    ['no --config', ['--claims', aliceClaims], 2],
    ['a malformed --check', ['--config', config, '--claims', aliceClaims, '--check', 'GetObject:x'], 2],
    ['a bad --source-ip', ['--config', config, '--claims', aliceClaims, '--source-ip', 'nowhere'], 2],
    ['an unknown option', ['--config', config, '--claims', aliceClaims, '--verbose'], 2],
    ['a stray argument', ['--config', config, '--claims', aliceClaims, 'extra'], 2],
  ])('when given %s, then it exits %i', async (_what, argv, code) => {
    const r = await cli(...argv)
    expect(r.code).toBe(code)
    expect(r.err).not.toBe('')
  })
})
