// Design §14: the selectable-rule warnings of check-config are also logged by the running service.
import { afterEach, describe, expect, it } from 'vitest'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type RunningServer, startServer } from '../../../src/server.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { appUsers, bareAppUsers } from '../../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { baselineConfig } from './harness.ts'

let running: RunningServer | undefined
let issuer: TestIssuer | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
  await issuer?.close()
  issuer = undefined
})

async function startWith(rules: Record<string, unknown>[]) {
  issuer = await startTestIssuer()
  const config = baselineConfig(issuer, (raw) => {
    raw['server'] = { host: '127.0.0.1', port: 0 }
    raw['rules'] = rules
  })
  const { logger, lines } = createCapturingLogger('info')
  running = await startServer({ config, logger, stsClient: createRecordingSts() })
  return lines.filter((l) => l['event'] === 'config.warning')
}

describe('selectable-rule warnings at start', () => {
  it('when a selectable rule grants more than an earlier rule the same caller matches, then serve logs one config.warning naming both', async () => {
    const warnings = await startWith([
      appUsers(),
      bareAppUsers({ id: 'whole-folder', selectable: true, oss: { prefix: 'users/' } }),
    ])
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'warn',
        generation: 1,
        warning: expect.stringMatching(
          /^rule "whole-folder" is selectable and grants .* beyond the earlier rule "app-users"/,
        ),
      }),
    ])
  })

  it('when no selectable rule widens an earlier one, then there is no config.warning', async () => {
    const warnings = await startWith([
      appUsers(),
      bareAppUsers({
        id: 'photos',
        selectable: true,
        oss: { prefix: 'users/${sub}/photos/', access: 'read' },
      }),
    ])
    expect(warnings).toEqual([])
  })
})
