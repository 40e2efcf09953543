// The STS answer → Caller mapping and the seen-nonce store of Alibaba identity logins (issue 21).
import { describe, expect, it } from 'vitest'
import { callerFrom } from '../../../src/auth/alibaba-verifier.ts'
import { MemoryNonceStore } from '../../../src/auth/nonce-store.ts'
import type { AlibabaIssuerConfig } from '../../../src/config/index.ts'
import { InvalidToken, UpstreamUnavailable } from '../../../src/errors.ts'

const ACCOUNT = '1000000000000002'
const issuer: AlibabaIssuerConfig = {
  type: 'alibaba-identity',
  id: 'alicloud',
  audience: 'aud',
  accounts: [ACCOUNT],
  stsEndpoint: 'sts.example',
}
const answer = (body: Record<string, unknown>, status = 200) => ({ status, body })
const role = {
  IdentityType: 'AssumedRoleUser',
  AccountId: ACCOUNT,
  Arn: `acs:ram::${ACCOUNT}:assumed-role/ingest-eu/i-abc`,
  PrincipalId: '300000:i-abc',
}

describe('callerFrom (the GetCallerIdentity answer)', () => {
  it('when STS names a role session, then roleName and sessionName come from the ARN', () => {
    expect(callerFrom(answer(role), issuer).claims['alibaba']).toEqual({
      accountId: ACCOUNT,
      arn: role.Arn,
      principalId: role.PrincipalId,
      identityType: 'AssumedRoleUser',
      roleName: 'ingest-eu',
      sessionName: 'i-abc',
    })
  })

  it('when STS writes the type in another case (older docs: RamUser), then it is still accepted, written RAMUser', () => {
    const user = { ...role, IdentityType: 'RamUser', Arn: `acs:ram::${ACCOUNT}:user/bob` }
    expect(callerFrom(answer(user), issuer).claims['alibaba']).toMatchObject({
      identityType: 'RAMUser',
      userName: 'bob',
    })
  })

  it.each([
    [
      'a root identity (any case)',
      { ...role, IdentityType: 'ACCOUNT', Arn: `acs:ram::${ACCOUNT}:root` },
      'alibaba_root_account',
    ],
    [
      'an account not listed',
      { ...role, AccountId: '1000000000000009', Arn: 'acs:ram::1000000000000009:assumed-role/r/s' },
      'alibaba_account_not_listed',
    ],
    [
      'an ARN of another account than AccountId',
      { ...role, Arn: 'acs:ram::1000000000000009:assumed-role/r/s' },
      'alibaba_identity_type_not_accepted',
    ],
    [
      'an unknown identity type',
      { ...role, IdentityType: 'Federated' },
      'alibaba_identity_type_not_accepted',
    ],
  ])('when the answer is %s, then it is 401', (_, body, reason) => {
    const err = (() => {
      try {
        callerFrom(answer(body), issuer)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(InvalidToken)
    expect((err as InvalidToken).reason).toBe(reason)
  })

  it.each([
    ['5xx', answer({ Code: 'InternalError' }, 500)],
    ['throttling (a 400 with a Throttling code)', answer({ Code: 'Throttling.User' }, 400)],
    ['200 without the identity fields', answer({ RequestId: 'x' })],
    ['200 that is not JSON', { status: 200, body: undefined }],
  ])('when STS answers %s, then it is 503 upstream_unavailable', (_, a) => {
    expect(() => callerFrom(a, issuer)).toThrow(UpstreamUnavailable)
  })

  it('when STS refuses the signature (4xx), then it is 401 naming the code for the log', () => {
    expect(() => callerFrom(answer({ Code: 'SignatureDoesNotMatch' }, 400), issuer)).toThrow(
      expect.objectContaining({ reason: 'alibaba_sts_refused_SignatureDoesNotMatch' }),
    )
  })
})

describe('MemoryNonceStore', () => {
  it('when a nonce is claimed twice within its time, then the second claim is refused; after it, accepted', async () => {
    let t = 0
    const store = new MemoryNonceStore({ now: () => t })
    expect(await store.claim('k', 1000)).toBe(true)
    t = 999
    expect(await store.claim('k', 1000)).toBe(false)
    t = 1000
    expect(await store.claim('k', 1000)).toBe(true)
  })

  it('when the store is full of live nonces, then a new one is refused (fails closed), never an old one forgotten', async () => {
    const store = new MemoryNonceStore({ maxEntries: 2, now: () => 0 })
    await store.claim('a', 1000)
    await store.claim('b', 1000)
    await expect(store.claim('c', 1000)).rejects.toThrow()
    expect(await store.claim('a', 1000)).toBe(false)
  })
})
