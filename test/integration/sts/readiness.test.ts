// /readyz and start-up with the real SDK against the emulator: a root account identity is never ready, a RAM user is.
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEV_ACCESS_KEY,
  DEV_ROOT_ACCESS_KEY,
  type Emulator,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { RootIdentityRefused } from '../../../src/errors.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { buildAdapters, checkServiceIdentity } from '../../../src/server.ts'
import { createAlibabaStsClient } from '../../../src/sts/index.ts'
import { staticCredential } from '../../fixtures/emulator-sdk.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { baselineConfig } from '../http/harness.ts'

let emulator: Emulator
let issuer: TestIssuer
beforeAll(async () => {
  emulator = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG })
  issuer = await startTestIssuer()
})
afterAll(async () => {
  await emulator.close()
  await issuer.close()
})

async function serviceAs(key: { id: string; secret: string }) {
  const config = baselineConfig(issuer, (raw) => {
    raw['sts'] = { endpoint: emulator.endpoint, protocol: 'http', region: 'cn-hangzhou' }
  })
  const captured = createCapturingLogger('info')
  const client = createAlibabaStsClient({
    sts: config.sts,
    logger: captured.logger,
    credential: staticCredential({ accessKeyId: key.id, secret: key.secret }),
  })
  const adapters = await buildAdapters(config, captured.logger, client)
  return { app: createApp(adapters.deps), adapters, client, captured }
}

describe('the service identity at start and in /readyz (design §14)', () => {
  it('when the identity is a RAM user, then /readyz is 200 and the start-up check logs its ARN', async () => {
    const s = await serviceAs(DEV_ACCESS_KEY)
    try {
      expect((await request(s.app).get('/readyz')).status).toBe(200)
      await expect(checkServiceIdentity(s.client, s.captured.logger)).resolves.toMatchObject({
        identityType: 'RAMUser',
      })
      expect(s.captured.lines.filter((l) => l['event'] === 'sts.identity')).toEqual([
        expect.objectContaining({ arn: 'acs:ram::1000000000000001:user/sts-vend', identity_type: 'RAMUser' }),
      ])
    } finally {
      await s.adapters.close()
    }
  })

  it('when the identity is the root account, then /readyz is 503 naming it and the start-up check throws', async () => {
    const s = await serviceAs(DEV_ROOT_ACCESS_KEY)
    try {
      const ready = await request(s.app).get('/readyz')
      expect(ready.status).toBe(503)
      expect(ready.body.error_description).toContain('sts (root account identity refused)')
      await expect(checkServiceIdentity(s.client, s.captured.logger)).rejects.toBeInstanceOf(
        RootIdentityRefused,
      )
      expect(s.captured.raw.join('\n')).not.toContain(DEV_ROOT_ACCESS_KEY.secret)
    } finally {
      await s.adapters.close()
    }
  })

  it('when STS is unreachable at start, then the start-up check logs it and lets the service start', async () => {
    const captured = createCapturingLogger('info')
    const client = createAlibabaStsClient({
      sts: {
        endpoint: '127.0.0.1:9',
        protocol: 'http',
        region: 'cn-hangzhou',
        connectTimeoutMs: 300,
        readTimeoutMs: 300,
        maxAttempts: 1,
        maxCallsPerSecond: 10,
      },
      logger: captured.logger,
      credential: staticCredential({ accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }),
    })
    await expect(checkServiceIdentity(client, captured.logger)).resolves.toBeNull()
    expect(captured.lines.find((l) => l['event'] === 'sts.identity')).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/^GetCallerIdentity failed: /),
    })
  })
})
