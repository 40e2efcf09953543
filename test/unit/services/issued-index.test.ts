// The issued-credential index: kept until expiration plus the grace, on the injected clock; bounded.
import { describe, expect, it } from 'vitest'
import { createMemoryIssuedIndex, type IssuedEntry } from '../../../src/services/issued-index.ts'

const T0 = Date.parse('2026-12-04T10:00:00Z')

function entry(id: string, expiresInSeconds = 3600): IssuedEntry {
  return {
    accessKeyId: id,
    issuer: 'https://id.example.test/',
    subject: 'alice',
    rule: 'app-users',
    target: {
      bucket: 'examplebucket',
      accessPoint: null,
      region: 'cn-hangzhou',
      account: '1000000000000001',
    },
    prefix: 'users/alice/',
    access: 'read-write',
    policy: '{"Version":"1","Statement":[]}',
    policySha256: 'ab',
    expiration: new Date(T0 + expiresInSeconds * 1000),
  }
}

describe('createMemoryIssuedIndex', () => {
  it('when the clock passes expiration + grace, then the entry is gone; before that it is found', async () => {
    let now = T0
    const index = createMemoryIssuedIndex({ maxEntries: 10, graceSeconds: 600, now: () => new Date(now) })
    await index.record(entry('STS.a'))
    now = T0 + 3600 * 1000 + 599 * 1000
    expect((await index.find('STS.a'))?.rule).toBe('app-users')
    now = T0 + 3600 * 1000 + 601 * 1000
    await new Promise((r) => setTimeout(r, 5))
    expect(await index.find('STS.a')).toBeNull()
  })

  it('when more credentials than maxEntries are recorded, then the least recently used goes first', async () => {
    const index = createMemoryIssuedIndex({ maxEntries: 2, now: () => new Date(T0) })
    await index.record(entry('STS.a'))
    await index.record(entry('STS.b'))
    await index.find('STS.a')
    await index.record(entry('STS.c'))
    expect(await index.find('STS.b')).toBeNull()
    expect(await index.find('STS.a')).not.toBeNull()
    expect(await index.find('STS.c')).not.toBeNull()
  })

  it('when an entry is already past its grace at recording, then nothing is kept', async () => {
    const index = createMemoryIssuedIndex({ maxEntries: 2, graceSeconds: 0, now: () => new Date(T0) })
    await index.record(entry('STS.old', -1))
    expect(await index.find('STS.old')).toBeNull()
  })
})
