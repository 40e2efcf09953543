import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/index.ts'
import {
  type EmulatorConfigInput,
  findAccessKey,
  findRole,
  parseEmulatorConfig,
  parseEmulatorConfigText,
} from '../../../src/emulator/config.ts'
import { DEFAULT_EMULATOR_CONFIG, DEV_ACCOUNT_ID } from '../../../src/emulator/default-config.ts'
import { isPolicyGrammatical } from '../../../src/emulator/policy-grammar.ts'

function problems(input: unknown): string[] {
  try {
    parseEmulatorConfig(input)
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.problems.map((p) => p.path)
  }
}

const base = (): EmulatorConfigInput => structuredClone(DEFAULT_EMULATOR_CONFIG)

describe('emulator config', () => {
  it('when the bundled default is parsed, then it is valid and has the dev key and roles', () => {
    const config = parseEmulatorConfig(DEFAULT_EMULATOR_CONFIG)
    expect(findAccessKey(config, 'LTAIexampleKeyId01')?.account.id).toBe(DEV_ACCOUNT_ID)
    expect(findAccessKey(config, 'LTAIexampleKeyId01')?.user?.name).toBe('sts-vend')
    expect(findAccessKey(config, 'LTAIrootKey0001')?.user).toBeNull()
    expect(findRole(config, DEV_ACCOUNT_ID, 'oss-app-user')?.maxSessionDurationSeconds).toBe(3600)
    expect(findRole(config, DEV_ACCOUNT_ID, 'oss-browser')).toBeDefined()
    expect(config.throttle.perSecond).toBe(100)
  })

  it('when YAML gives the design §10 example, then defaults fill the rest', () => {
    const config = parseEmulatorConfigText(`
accounts:
  - id: "1000000000000001"
    accessKeys: [{ id: LTAIexampleKeyId01, secret: exampleSecret01 }]
    roles:
      - name: oss-app-user
        maxSessionDurationSeconds: 3600
        trust: { accounts: ["1000000000000001"], externalId: null }
        policy: { Version: "1", Statement: [{ Effect: Allow, Action: "oss:*", Resource: "*" }] }
buckets:
  - { name: examplebucket, account: "1000000000000001", region: cn-hangzhou, policy: null }
throttle: { perSecond: 5 }
faults: [{ kind: throttle, count: 3 }]
`)
    expect(config.faults).toEqual([{ kind: 'throttle', count: 3 }])
    expect(config.accounts[0]?.accessKeys[0]?.active).toBe(true)
    expect(config.accessPoints).toEqual([])
  })

  it.each<[string, string, (c: EmulatorConfigInput) => void]>([
    [
      'an account id of 15 digits',
      'accounts[0].id',
      (c) => {
        c.accounts[0]!.id = '100000000000001'
      },
    ],
    ['a duplicate account', 'accounts[2].id', (c) => void c.accounts.push(structuredClone(c.accounts[1]!))],
    [
      'a duplicate AccessKey id',
      'accounts[1].accessKeys[0].id',
      (c) => {
        c.accounts[1]!.accessKeys![0]!.id = 'LTAIexampleKeyId01'
      },
    ],
    [
      'a role max session of 43201 s',
      'accounts[0].roles[0].maxSessionDurationSeconds',
      (c) => {
        c.accounts[0]!.roles![0]!.maxSessionDurationSeconds = 43201
      },
    ],
    [
      'a trust without accounts',
      'accounts[0].roles[0].trust.accounts',
      (c) => {
        const role = c.accounts[0]!.roles![0]!
        delete role.trustPolicy
        role.trust = { accounts: [] }
      },
    ],
    [
      'an ExternalId with a space',
      'accounts[0].roles[0].trust.externalId',
      (c) => {
        const role = c.accounts[0]!.roles![0]!
        delete role.trustPolicy
        role.trust = { accounts: [DEV_ACCOUNT_ID], externalId: 'a b' }
      },
    ],
    [
      'a role with both trust and trustPolicy',
      'accounts[0].roles[0].trustPolicy',
      (c) => {
        c.accounts[0]!.roles![0]!.trust = { accounts: [DEV_ACCOUNT_ID] }
      },
    ],
    [
      'a role with neither trust nor trustPolicy',
      'accounts[0].roles[0].trustPolicy',
      (c) => {
        delete c.accounts[0]!.roles![0]!.trustPolicy
      },
    ],
    [
      'a trust policy whose Principal is a list (a bucket policy form)',
      'accounts[0].roles[0].trustPolicy',
      (c) => {
        c.accounts[0]!.roles![0]!.trustPolicy = {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: [DEV_ACCOUNT_ID] }],
        }
      },
    ],
    [
      'a trust policy with an unknown Principal kind',
      'accounts[0].roles[0].trustPolicy',
      (c) => {
        c.accounts[0]!.roles![0]!.trustPolicy = {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: ['x'] } }],
        }
      },
    ],
    [
      'a duplicate RAM user',
      'accounts[0].users[1].name',
      (c) => void c.accounts[0]!.users!.push({ name: 'STS-VEND' }),
    ],
    [
      "a RAM user key equal to another account's root key",
      'accounts[1].users[0].accessKeys[0].id',
      (c) => {
        c.accounts[1]!.users![0]!.accessKeys![0]!.id = 'LTAIrootKey0001'
      },
    ],
    [
      'a role policy that is no RAM policy',
      'accounts[0].roles[0].policy',
      (c) => {
        c.accounts[0]!.roles![0]!.policy = { Version: '1' }
      },
    ],
    [
      'a bucket of an unknown account',
      'buckets[0].account',
      (c) => {
        c.buckets![0]!.account = '1999999999999999'
      },
    ],
    [
      'an access point on an unknown bucket',
      'accessPoints[0].bucket',
      (c) => {
        c.accessPoints![0]!.bucket = 'nope'
      },
    ],
    [
      'a bucket policy without Principal',
      'buckets[0].policy',
      (c) => {
        c.buckets![0]!.policy = {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: '*' }],
        }
      },
    ],
    [
      'a fault of an unknown kind',
      'faults[0].kind',
      (c) => {
        c.faults = [{ kind: 'explode' as 'reset' }]
      },
    ],
    [
      'a delay fault without delayMs',
      'faults[0].delayMs',
      (c) => {
        c.faults = [{ kind: 'delay' }]
      },
    ],
    ['an unknown key', '', (c) => void Object.assign(c, { extra: 1 })],
  ])('when the config has %s, then it is refused at %j', (_, path, change) => {
    const input = base()
    change(input)
    expect(problems(input)).toContain(path)
  })

  it('when YAML is malformed, then a ConfigError is thrown', () => {
    expect(() => parseEmulatorConfigText('accounts: [')).toThrow(ConfigError)
  })
})

describe('policy grammar', () => {
  const statement = { Effect: 'Allow', Action: ['oss:GetObject', 'oss:List*'], Resource: ['acs:oss:*:*:b/*'] }
  it.each<[string, boolean, unknown]>([
    ['a minimal policy', true, { Version: '1', Statement: [statement] }],
    [
      'NotAction and NotResource',
      true,
      { Version: '1', Statement: [{ Effect: 'Deny', NotAction: 'oss:*', NotResource: '*' }] },
    ],
    [
      'a condition block',
      true,
      {
        Version: '1',
        Statement: [
          {
            ...statement,
            Condition: { StringLike: { 'oss:Prefix': ['a/*'] }, Bool: { 'acs:SecureTransport': 'true' } },
          },
        ],
      },
    ],
    ['an action of *', true, { Version: '1', Statement: [{ ...statement, Action: '*' }] }],
    ['no Version', false, { Statement: [statement] }],
    ['Version 2', false, { Version: '2', Statement: [statement] }],
    ['an empty Statement list', false, { Version: '1', Statement: [] }],
    ['a Statement object instead of a list', false, { Version: '1', Statement: statement }],
    ['Effect allow in lower case', false, { Version: '1', Statement: [{ ...statement, Effect: 'allow' }] }],
    ['both Action and NotAction', false, { Version: '1', Statement: [{ ...statement, NotAction: 'oss:*' }] }],
    ['no Resource', false, { Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:*' }] }],
    [
      'an action without service',
      false,
      { Version: '1', Statement: [{ ...statement, Action: 'GetObject' }] },
    ],
    [
      'a Principal in a session policy',
      false,
      { Version: '1', Statement: [{ ...statement, Principal: ['*'] }] },
    ],
    [
      'an unknown condition operator',
      false,
      { Version: '1', Statement: [{ ...statement, Condition: { Regex: { a: 'b' } } }] },
    ],
    [
      'an empty condition value list',
      false,
      { Version: '1', Statement: [{ ...statement, Condition: { StringLike: { a: [] } } }] },
    ],
    ['an unknown top-level key', false, { Version: '1', Statement: [statement], Id: 'x' }],
    ['a JSON array', false, [statement]],
  ])('when the policy is %s, then it passes the grammar check: %s', (_, ok, doc) => {
    expect(isPolicyGrammatical(JSON.stringify(doc))).toBe(ok)
  })

  it('when the text is not JSON, then it fails the grammar check', () => {
    expect(isPolicyGrammatical('{"Version":')).toBe(false)
  })
})
