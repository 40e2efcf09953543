// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { NO_DENY_LIST } from '../../../src/denylist/index.ts'
import { restartOnlyChanges, retiredByReload } from '../../../src/reload/live-settings.ts'
import { createRuntimeHolder, type Runtime } from '../../../src/reload/runtime.ts'
import { sha256Hex, watchFile } from '../../../src/reload/watch.ts'
import { createIssueCredentials } from '../../../src/services/issue-credentials.ts'
import type { Caller } from '../../../src/types.ts'
import { alice, appUsers, compile } from '../../fixtures/rules.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function runtime(generation: number, prefix: string, caller: Caller): Runtime {
  const { config, rules } = compile([appUsers({ oss: { prefix } })])
  const unused = { issue: () => Promise.reject(new Error('no STS here')) }
  // As createTokenVerifier with `mark`: every Caller it makes carries the runtime's pin.
  const pin = {}
  return {
    generation,
    sha256: String(generation),
    config,
    rules,
    pin,
    verifier: {
      verify: async () => ({ ...caller, verifiedBy: pin }),
      readiness: async () => ({ ready: true, issuers: {} }),
    },
    issue: createIssueCredentials({ rules, sts: unused, audit: {} as never, minRemainingSeconds: 300 }),
    simulate: () => {
      throw new Error('unused')
    },
    listGrants: () => [],
    shadow: null,
  }
}

describe('runtime holder', () => {
  it('when the runtime is swapped between a request verifying its token and deciding, then that request decides under the runtime it started with', async () => {
    const holder = createRuntimeHolder(runtime(1, 'old/${sub}/', alice()))
    const use = holder.issueCredentials(NO_DENY_LIST, {
      sts: { issue: () => Promise.reject(new Error('no STS here')) },
      audit: {} as never,
    })
    const facts = { requestId: 'r', clientIp: '10.0.0.1' }
    const inFlight = await holder.verifier.verify(['Bearer x'])
    holder.swap(runtime(2, 'new/${sub}/', alice()))
    const later = await holder.verifier.verify(['Bearer x'])
    expect(use.decide(inFlight, { format: 'json' }, facts).oss.prefix).toBe('old/alice/')
    expect(use.decide(later, { format: 'json' }, facts).oss.prefix).toBe('new/alice/')
  })
})

describe('live settings', () => {
  it('when only rules change, then nothing needs a restart; a port or limit change is named', () => {
    const a = compile([appUsers()]).config
    const b = compile([appUsers({ oss: { prefix: 'other/${sub}/' } })]).config
    expect(restartOnlyChanges(a, b)).toEqual([])
    const moved = { ...b, server: { ...b.server, port: 9999 }, cache: { ...b.cache, maxEntries: 5 } }
    expect(restartOnlyChanges(a, moved)).toEqual(['server.port: 8080 → 9999', 'cache.maxEntries: 10000 → 5'])
  })

  it('when a rule changes or goes, then cache entries of that rule are retired and others are kept', () => {
    const a = compile([appUsers(), appUsers({ id: 'keep', oss: { prefix: 'keep/${sub}/' } })]).config
    const b = compile([appUsers({ id: 'keep', oss: { prefix: 'keep/${sub}/' } })]).config
    const retired = retiredByReload(a, b)
    expect(retired({ issuerId: 'corp', ruleId: 'app-users' })).toBe(true)
    expect(retired({ issuerId: 'corp', ruleId: 'keep' })).toBe(false)
  })
})

describe('watchFile', () => {
  it('when a Kubernetes ConfigMap swaps its ..data symlink, then the new content is seen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-'))
    dirs.push(dir)
    const version = (name: string, text: string) => {
      mkdirSync(join(dir, name))
      writeFileSync(join(dir, name, 'config.yaml'), text)
    }
    version('..v1', 'one')
    symlinkSync('..v1', join(dir, '..data'))
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'))
    const seen: (string | null)[] = []
    const watch = watchFile(join(dir, 'config.yaml'), sha256Hex('one'), (s) => {
      seen.push(s.text)
    })
    try {
      version('..v2', 'two')
      symlinkSync('..v2', join(dir, '..data_tmp'))
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['two'])
    } finally {
      watch.close()
    }
  })
})
