// The decisions of security-cases §4.8 that no catalogued case pins at the app level (the README's security section lists all ten).
import { afterEach, describe, it, vi } from 'vitest'
import { mintToken } from '../fixtures/issuer.ts'
import { startJwksStub } from '../fixtures/jwks-server.ts'
import { expectIssued, expectRefused, send } from '../fixtures/refusals.ts'
import { goodSpec } from './catalogue.ts'
import { sharedWorld } from './run-catalogue.ts'
import { buildSecApp, type SecApp } from './world.ts'

const shared = sharedWorld()
const apps: SecApp[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

describe('§4.8 decisions', () => {
  it('decision 8 (§4.8, SEC-088): HEAD on a credential route is 405 with Allow, no token needed', async () => {
    const { world, sec } = shared()
    for (const path of ['/v1/credentials', '/v1/simulate']) {
      const probe = await send(world, sec, { method: 'HEAD', path, token: await world.sign() })
      await expectRefused(probe, { status: 405, code: 'method_not_allowed' })
    }
    await expectIssued(await send(world, sec, { ...(await goodSpec(world)), method: 'GET', body: undefined }))
  })

  it('decision 1 (§4.8, SEC-028): with the JWKS unreachable past the cooldown, a token naming an unknown kid is 503, not 401', async () => {
    const { world } = shared()
    const stub = await startJwksStub({ keys: [world.keys.rs1.publicJwk] })
    try {
      const sec = await buildSecApp(world, {
        patch: (d) => Object.assign(d['issuers'][0], { jwksUri: stub.jwksUri }),
      })
      apps.push(sec)
      stub.fault({ status: 500 })
      // Past the 30 s cooldown, an unknown kid makes the verifier refetch, and the refetch fails.
      const now = Date.now()
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(now + 31_000)
      const unknownKid = await mintToken(world.keys.rs2, world.good())
      await expectRefused(await send(world, sec, { method: 'POST', body: {}, token: unknownKid }), {
        status: 503,
        code: 'upstream_unavailable',
      })
      // Twin: the known kid still verifies from the cached keys.
      await expectIssued(await send(world, sec, await goodSpec(world)))
    } finally {
      await stub.close()
    }
  })
})
