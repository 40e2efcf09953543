// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { runCli } from '../../../src/cli.ts'
import { captureIo } from '../../fixtures/cli-io.ts'
import { appUsers, CORP_ISS, configDoc } from '../../fixtures/rules.ts'

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-diff-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const data = (prefix: string) =>
  appUsers({ id: 'data', when: { team: { equals: 'data' } }, oss: { prefix, access: 'read' } })
const ops = (access: string) =>
  appUsers({ id: 'ops', when: { team: { equals: 'ops' } }, oss: { prefix: 'teams/ops/${sub}/', access } })
const everyone = appUsers({ when: {}, oss: { access: 'read' } })

const live = file(
  'live.yaml',
  stringify(configDoc([data('teams/data/${sub}/'), ops('read-write'), everyone])),
)
// Planted: data members widen (their own folder → the whole team folder), ops members narrow (read-write → read).
const candidate = file('candidate.yaml', stringify(configDoc([data('teams/data/'), ops('read'), everyone])))

/** 1,000 identities: every 10th in data, every 7th (not data) in ops, the rest in no team. */
const identities = Array.from({ length: 1000 }, (_, i) => {
  const team = i % 10 === 0 ? 'data' : i % 7 === 0 ? 'ops' : undefined
  return { issuer: i % 2 === 0 ? 'corp' : CORP_ISS, claims: { sub: `user-${i}`, ...(team ? { team } : {}) } }
})
const identitiesFile = file('identities.jsonl', identities.map((x) => JSON.stringify(x)).join('\n'))
const subsOf = (team: string) => identities.filter((x) => x.claims.team === team).map((x) => x.claims.sub)

async function diff(...argv: string[]) {
  const io = captureIo()
  const code = await runCli(['diff', ...argv], io)
  return { code, out: io.stdout(), err: io.stderr() }
}

describe('sts-vend diff', () => {
  it('when 1,000 identities are compared, then exactly the planted widenings and narrowings are printed, and it exits 2', async () => {
    const { code, out } = await diff(live, candidate, '--identities', identitiesFile)
    expect(code).toBe(2)
    const lines = out.trim().split('\n')
    const subs = (outcome: string) =>
      lines.filter((l) => l.startsWith(outcome)).map((l) => JSON.parse(l.split(/\s+/)[2] ?? '""') as string)
    expect(subs('widened').sort()).toEqual(subsOf('data').sort())
    expect(subs('narrowed').sort()).toEqual(subsOf('ops').sort())
    expect(lines).toHaveLength(subsOf('data').length + subsOf('ops').length)
    const line = lines.find((l) => l.includes('"user-0"'))
    expect(line).toContain('+oss:GetObject')
    expect(line).toContain('× examplebucket/teams/data/*')
    expect(lines.find((l) => l.includes('"user-7"'))).toContain('-oss:PutObject')
  })

  it('when --accept-widening is given, then the same report exits 0; --json carries the changes', async () => {
    const { code, out } = await diff(
      live,
      candidate,
      '--identities',
      identitiesFile,
      '--accept-widening',
      '--json',
    )
    expect(code).toBe(0)
    const report = JSON.parse(out) as { identities: number; widened: number; changed: { outcome: string }[] }
    expect(report.identities).toBe(1000)
    expect(report.widened).toBe(subsOf('data').length)
    expect(report.changed.filter((c) => c.outcome === 'narrowed')).toHaveLength(subsOf('ops').length)
  })

  it('when only narrowings are planted, then it exits 0', async () => {
    const narrower = file(
      'narrower.yaml',
      stringify(configDoc([data('teams/data/${sub}/'), ops('read'), everyone])),
    )
    const { code, out } = await diff(live, narrower, '--identities', identitiesFile)
    expect(code).toBe(0)
    expect(out.trim().split('\n')).toHaveLength(subsOf('ops').length)
  })

  it('when the configs grant the same, then nothing is printed and it exits 0', async () => {
    expect(await diff(live, live, '--identities', identitiesFile)).toMatchObject({ code: 0, out: '' })
  })

  it('when a denied identity becomes allowed, then that is a widening', async () => {
    const onlyData = file('only-data.yaml', stringify(configDoc([data('teams/data/${sub}/')])))
    const { code, out } = await diff(onlyData, live, '--identities', identitiesFile)
    expect(code).toBe(2)
    expect(out).toMatch(/^allowed +corp "user-2" /m)
  })

  it('when identities come from the audit log, then each (iss, sub) is compared once', async () => {
    const log = file(
      'audit.log',
      [
        { event: 'credentials.issued', iss: CORP_ISS, sub: 'amy' },
        { event: 'credentials.issued', iss: CORP_ISS, sub: 'amy' },
        { event: 'credentials.denied', iss: CORP_ISS, sub: 'ben' },
        { event: 'credentials.issued', iss: CORP_ISS, sub: 'cat' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\nnot json\n',
    )
    const wider = file(
      'wider.yaml',
      stringify(configDoc([appUsers({ when: {}, oss: { access: 'read-write' } })])),
    )
    const { code, out } = await diff(live, wider, '--from-audit', log)
    expect(code).toBe(2)
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[2]),
    ).toEqual(['"amy"', '"cat"'])
  })

  it('when the input is invalid, then it exits 1 naming the problem; a usage mistake exits 2', async () => {
    const bad = file('bad.jsonl', '{"issuer": "corp", "claims": {}}\n')
    expect(await diff(live, candidate, '--identities', bad)).toMatchObject({
      code: 1,
      err: expect.stringContaining(':1: claims.sub'),
    })
    expect(await diff(live, file('broken.yaml', 'rules: ['), '--identities', identitiesFile)).toMatchObject({
      code: 1,
    })
    expect((await diff(live, candidate)).code).toBe(2)
    expect((await diff(live, candidate, '--identities', identitiesFile, '--from-audit', 'x')).code).toBe(2)
  })
})
