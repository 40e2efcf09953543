// Runs a group's data-driven catalogue records: every hostile variant through expectRefused, then the twin(s).
import { afterAll, afterEach, beforeAll, it } from 'vitest'
import { DEV_ACCESS_KEY } from '../../src/emulator/index.ts'
import { expectIssued, expectNoSentinel, expectRefused, send } from '../fixtures/refusals.ts'
import { CATALOGUE, type Group, goodSpec } from './catalogue.ts'
import { type AppOptions, buildSecApp, type SecApp, startWorld, type World } from './world.ts'

export interface Shared {
  world: World
  sec: SecApp
}

/**
 * Starts the world and one shared app for a group file (warmed with one good request, so corp's
 * keys are cached and JWKS deltas start at 0), scans the log after every test for every secret the
 * emulator issued (§4.4), and closes everything after the file.
 */
export function sharedWorld(options: AppOptions = {}): () => Shared {
  let shared: Shared | undefined
  let scanned = 0
  beforeAll(async () => {
    const world = await startWorld()
    const sec = await buildSecApp(world, options)
    shared = { world, sec }
    await expectIssued(await send(world, sec, await goodSpec(world)))
  })
  afterEach(() => {
    if (!shared) return
    const { world, sec } = shared
    const fresh = sec.raw.slice(scanned).join('\n')
    scanned = sec.raw.length
    const secrets: string[] = [DEV_ACCESS_KEY.secret]
    for (const s of world.emulator.sessions.list()) {
      secrets.push(s.accessKeySecret, s.securityToken)
      if (s.policy) secrets.push(s.policy)
    }
    expectNoSentinel(fresh, secrets, 'the log')
  })
  afterAll(async () => {
    if (!shared) return
    // SEC-078: the emulator flags any AssumeRole without a session Policy; there must be none.
    const { policylessCalls } = shared.world.emulator.counters.snapshot()
    await shared.sec.close()
    await shared.world.close()
    if (policylessCalls !== 0) throw new Error(`${policylessCalls} AssumeRole calls without a Policy`)
  })
  return () => {
    if (!shared) throw new Error('the shared world is not started')
    return shared
  }
}

/** Registers one `it` per data-driven record of `group`, titled `<id> <title>`. */
export function runCatalogued(group: Group, shared: () => Shared): void {
  for (const record of CATALOGUE.filter((c) => c.group === group && c.build)) {
    it(`${record.id} ${record.title}`, async () => {
      const { world, sec } = shared()
      const variants = await record.build?.(world)
      for (const [variant, spec] of Object.entries(variants ?? {})) {
        const want = typeof record.expect === 'function' ? record.expect(variant) : record.expect
        if (!want) throw new Error(`${record.id} has variants but no expectation`)
        try {
          const probe = await send(world, sec, spec)
          await expectRefused(probe, want)
          await record.check?.(probe, variant)
        } catch (err) {
          if (err instanceof Error) err.message = `${record.id} [${variant}]: ${err.message}`
          throw err
        }
      }
      const twins = record.twin ? await record.twin(world) : [await goodSpec(world)]
      for (const spec of twins) await expectIssued(await send(world, sec, spec))
    })
  }
}
