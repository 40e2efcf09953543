import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../src/cli.ts'
import { parseClaim } from '../../../src/commands/token.ts'
import { DEV_ISSUER_DEFAULT_PORT, DEV_ISSUER_DEFAULT_URL } from '../../../src/dev/defaults.ts'
import { type DevIssuer, startDevIssuer } from '../../../src/dev/issuer.ts'
import { captureIo } from '../../fixtures/cli-io.ts'
import { deadPort } from '../../fixtures/ports.ts'

const _root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

const capture = captureIo

let dev: DevIssuer
beforeAll(async () => {
  dev = await startDevIssuer()
})
afterAll(() => dev.close())

describe('sts-vend token', () => {
  it('when the dev issuer runs, then it prints one token and a newline, with the claims parsed as JSON', async () => {
    const io = capture()
    const code = await runCli(
      [
        'token',
        '--sub',
        'alice',
        '--claim',
        'groups=["photo-app"]',
        '--claim',
        'email_verified=true',
        '--claim',
        'team=blue',
        '--issuer',
        dev.issuer,
      ],
      io,
    )
    expect(io.stderr()).toBe('')
    expect(code).toBe(0)
    expect(io.stdout()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    const claims = decodeJwt(io.stdout().trim())
    expect(claims).toMatchObject({
      iss: dev.issuer,
      aud: 'sts-vend',
      sub: 'alice',
      groups: ['photo-app'],
      email_verified: true,
      team: 'blue',
    })
  })

  it('when --ttl is given, then the token lives that long', async () => {
    const io = capture()
    expect(await runCli(['token', '--sub', 'bob', '--ttl', '120', '--issuer', `${dev.issuer}/`], io)).toBe(0)
    const { iat, exp } = decodeJwt(io.stdout().trim())
    expect((exp ?? 0) - (iat ?? 0)).toBe(120)
  })

  it.each([
    ['groups=["a","b"]', 'groups', ['a', 'b']],
    ['email_verified=true', 'email_verified', true],
    ['level=42', 'level', 42],
    ['org={"id":7}', 'org', { id: 7 }],
    ['team=blue', 'team', 'blue'],
    ['quoted="42"', 'quoted', '42'],
    ['empty=', 'empty', ''],
    ['eq=a=b', 'eq', 'a=b'],
    ['n=null', 'n', null],
  ])('when --claim %s, then %s is %j', (text, name, value) => {
    expect(parseClaim(text)).toEqual([name, value])
  })

  it.each([
    ['no --sub', ['--issuer', 'http://127.0.0.1:1']],
    ['an empty --sub', ['--sub', '']],
    ['a --claim without =', ['--sub', 'a', '--claim', 'groups']],
    ['a --claim without a name', ['--sub', 'a', '--claim', '=x']],
    ['a reserved --claim', ['--sub', 'a', '--claim', 'iss=https://evil']],
    ['a --claim named __proto__', ['--sub', 'a', '--claim', '__proto__={"x":1}']],
    ['a zero --ttl', ['--sub', 'a', '--ttl', '0']],
    ['a non-numeric --ttl', ['--sub', 'a', '--ttl', '1h']],
    ['a --ttl over a day', ['--sub', 'a', '--ttl', '86401']],
    ['a relative --issuer', ['--sub', 'a', '--issuer', '127.0.0.1:8788']],
    ['an unknown flag', ['--sub', 'a', '--admin']],
    ['a stray argument', ['--sub', 'a', 'extra']],
  ])('when given %s, then exit 2 with a usage message on stderr', async (_n, args) => {
    const io = capture()
    expect(await runCli(['token', ...args], io)).toBe(2)
    expect(io.stdout()).toBe('')
    expect(io.stderr()).toMatch(/^sts-vend token: .+\nRun 'sts-vend token --help'\.\n$/)
  })

  it('when nothing listens at the issuer URL, then exit 1 with a message naming the URL', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`
    const io = capture()
    expect(await runCli(['token', '--sub', 'alice', '--issuer', url], io)).toBe(1)
    expect(io.stdout()).toBe('')
    expect(io.stderr()).toContain(url)
    expect(io.stderr()).toContain('sts-vend dev')
  })

  it('when the issuer refuses the request, then exit 1 with its reason', async () => {
    const io = capture()
    const code = await runCli(
      ['token', '--sub', 'alice', '--claim', `big=${'x'.repeat(7000)}`, '--issuer', dev.issuer],
      io,
    )
    expect(code).toBe(1)
    expect(io.stderr()).toMatch(/answered 400: claims must be at most/)
  })

  it('when --help, then usage with every option, the default issuer and the exit codes', async () => {
    const io = capture()
    expect(await runCli(['token', '--help'], io)).toBe(0)
    for (const text of [
      'Usage: sts-vend token',
      '--sub',
      '--claim',
      '--issuer',
      '--ttl',
      'Exit codes',
      DEV_ISSUER_DEFAULT_URL,
    ])
      expect(io.stdout()).toContain(text)
    expect(DEV_ISSUER_DEFAULT_URL).toBe(`http://127.0.0.1:${DEV_ISSUER_DEFAULT_PORT}`)
    expect(DEV_ISSUER_DEFAULT_PORT).toBe(8788)
  })
})
