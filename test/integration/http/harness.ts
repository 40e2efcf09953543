// Builds the real app (buildAdapters + createApp) against a loopback issuer and a recording STS.
import type { Express } from 'express'
import request from 'supertest'
import { type AppDeps, createApp } from '../../../src/app.ts'
import { type Config, loadConfig } from '../../../src/config/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import type { Metrics } from '../../../src/metrics.ts'
import { buildAdapters } from '../../../src/server.ts'
import { createRecordingSts, type RecordingSts } from '../../fixtures/fake-sts.ts'
import { appUsers, corpIssuer } from '../../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'

// biome-ignore lint/suspicious/noExplicitAny: test patches reach into arbitrary nested config keys.
type Loose = Record<string, any>

export interface Harness {
  app: Express
  config: Config
  issuer: TestIssuer
  sts: RecordingSts
  metrics: Metrics
  lines: Record<string, unknown>[]
  raw: string[]
  agent: () => request.Agent
  token(claims?: Record<string, unknown>, options?: { expiresInSeconds?: number }): Promise<string>
  close(): Promise<void>
}

export const ALICE = { sub: 'alice', groups: ['photo-app'], email_verified: true }

/** The baseline config of security-cases.md §0 plus an ossbrowser, an access-point and a partner rule. */
export function baselineConfig(issuer: TestIssuer, patch: (raw: Loose) => void = () => {}): Config {
  const raw: Loose = {
    server: { cors: { origins: ['https://app.example.test'] } },
    limits: { perIp: { limit: 300, windowSeconds: 60 }, perSubject: { limit: 60, windowSeconds: 60 } },
    issuers: [
      corpIssuer(issuer, {
        algorithms: ['RS256', 'ES256'],
        clockToleranceSeconds: 30,
        maxTokenAgeSeconds: 3600,
      }),
    ],
    rules: [
      appUsers({
        // The first rule: naming it skips no earlier rule (design §14), so callers may ask for it.
        selectable: true,
        roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
      }),
      {
        id: 'browser',
        issuer: 'corp',
        when: { groups: { contains: 'analysts' } },
        roleArn: 'acs:ram::1000000000000001:role/oss-browser',
        sessionName: 'ob-${sub}',
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'teams/${claim.team}/',
          access: 'ossbrowser',
        },
        conditions: { sourceIp: 'request' },
        durationSeconds: { default: 3600, max: 7200 },
      },
      {
        id: 'ap-readers',
        issuer: 'corp',
        when: { groups: { contains: 'ap' } },
        roleArn: 'acs:ram::1000000000000001:role/oss-ap',
        oss: {
          accessPoint: { name: 'ap-01', alias: 'ap-01-ossalias', accountId: '1379186349531234' },
          region: 'cn-hangzhou',
          endpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
          prefix: 'dir1/${sub}/',
          access: 'read',
        },
      },
      {
        id: 'partner',
        issuer: 'corp',
        when: { partner: { equals: 'acme' } },
        roleArn: 'acs:ram::1000000000000002:role/broker',
        externalId: 'ext-${claim.partner}-7f3a',
        sessionName: 'partner-${sub}',
        oss: {
          bucket: 'partner-data',
          region: 'cn-shanghai',
          prefix: 'ingest/${sub}/',
          actions: ['oss:PutObject'],
        },
        durationSeconds: { default: 900, max: 3600 },
      },
    ],
  }
  patch(raw)
  return loadConfig(raw)
}

export async function createHarness(
  patch?: (raw: Loose) => void,
  extra: Partial<Pick<AppDeps, 'now' | 'readiness'>> = {},
): Promise<Harness> {
  const issuer = await startTestIssuer()
  const config = baselineConfig(issuer, patch)
  const { logger, lines, raw } = createCapturingLogger('info')
  const sts = createRecordingSts()
  const adapters = await buildAdapters(config, logger, sts)
  const app = createApp({ ...adapters.deps, ...extra })
  return {
    app,
    config,
    issuer,
    sts,
    metrics: adapters.deps.metrics,
    lines,
    raw,
    agent: () => request.agent(app),
    token: (claims = ALICE, options) => issuer.sign(claims, options),
    async close() {
      await adapters.close()
      await issuer.close()
    },
  }
}

/** The audit lines with the given event. */
export function events(lines: Record<string, unknown>[], event: string): Record<string, unknown>[] {
  return lines.filter((l) => l['event'] === event)
}
