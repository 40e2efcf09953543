import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { COMMANDS, EXIT, runCli } from '../../src/cli.ts'
import { captureIo } from '../fixtures/cli-io.ts'
import { VALID_YAML } from './config/valid-config.ts'

const capture = captureIo

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const validFile = join(dir, 'valid.yaml')
writeFileSync(validFile, VALID_YAML)

const FIVE_MISTAKES = `server:
  trustProxyHops: true
  cors: { origins: ["*"] }
limits:
  perip: { limit: 10 }
issuers:
  - id: corp
    issuer: https://id.example.com/
    audiences: [sts-vend]
    jwksUri: https://id.example.com/.well-known/jwks.json
    algorithms: [RS256, none]
rules:
  - id: app-users
    issuer: crop
    roleArn: acs:ram::1234567890123456:role/oss-app-user
    oss: { bucket: examplebucket, region: cn-hangzhou, prefix: "users/\${sub}/", access: read }
`
const invalidFile = join(dir, 'invalid.yaml')
writeFileSync(invalidFile, FIVE_MISTAKES)

describe('runCli', () => {
  it('when no command is given, then usage goes to stderr and the exit code is 2', async () => {
    const io = capture()
    expect(await runCli([], io)).toBe(EXIT.usage)
    expect(io.stderr()).toContain('Usage: sts-vend <command>')
    for (const name of Object.keys(COMMANDS)) expect(io.stderr()).toContain(name)
    expect(io.stdout()).toBe('')
  })

  it.each([['--help'], ['-h'], ['help']])(
    'when %s is the command, then usage goes to stdout and the exit code is 0',
    async (arg) => {
      const io = capture()
      expect(await runCli([arg], io)).toBe(EXIT.ok)
      expect(io.stdout()).toContain('Usage: sts-vend <command>')
    },
  )

  it('when the command is unknown, then the exit code is 2 and the command is named', async () => {
    const io = capture()
    expect(await runCli(['frobnicate'], io)).toBe(EXIT.usage)
    expect(io.stderr()).toContain('unknown command "frobnicate"')
  })

  it.each(Object.keys(COMMANDS).flatMap((name) => [[name, '--help'] as const, [name, '-h'] as const]))(
    'when %s %s is run, then its own help goes to stdout and the exit code is 0',
    async (name, flag) => {
      const io = capture()
      expect(await runCli([name, flag], io)).toBe(EXIT.ok)
      expect(io.stdout()).toContain(`Usage: sts-vend ${name}`)
      expect(io.stderr()).toBe('')
    },
  )

  it.each([
    ['positional', [validFile]],
    ['--config', ['--config', validFile]],
    ['-c', ['-c', validFile]],
  ])(
    'when check-config is given a valid file (%s), then it prints one summary line and exits 0',
    async (_form, args) => {
      const io = capture()
      expect(await runCli(['check-config', ...args], io)).toBe(EXIT.ok)
      const lines = io.stdout().split('\n').filter(Boolean)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toBe(`${validFile}: ok — 1 issuer(s), 1 rule(s): app-users`)
      expect(io.stderr()).toBe('')
    },
  )

  it('when check-config is given the example config, then it exits 0 naming its three rules', async () => {
    const io = capture()
    expect(await runCli(['check-config', 'examples/config.yaml'], io)).toBe(EXIT.ok)
    expect(io.stdout()).toContain('2 issuer(s), 3 rule(s): app-users, ossbrowser-analysts, partner-broker')
  })

  it('when a selectable rule grants more than an earlier rule the same caller could match, then check-config warns and still exits 0 (issue 16 item 2)', async () => {
    const file = join(dir, 'selectable.yaml')
    const widening = VALID_YAML.replace(
      /rules:\n/,
      'rules:\n  - id: first\n    issuer: corp\n    roleArn: acs:ram::1234567890123456:role/oss-app-user\n    oss: { bucket: examplebucket, region: cn-hangzhou, prefix: "first/${sub}/", access: read }\n',
    )
    writeFileSync(file, widening.replace('  - id: app-users\n', '  - id: app-users\n    selectable: true\n'))
    const io = capture()
    expect(await runCli(['check-config', file], io)).toBe(EXIT.ok)
    expect(io.stdout()).toContain('2 rule(s): first, app-users')
    expect(io.stderr()).toMatch(
      /^warning: rule "app-users" is selectable and grants .* beyond the earlier rule "first"/,
    )
    writeFileSync(file, widening)
    const quiet = capture()
    expect(await runCli(['check-config', file], quiet)).toBe(EXIT.ok)
    expect(quiet.stderr()).toBe('')
  })

  it('when the metrics bearer token file is unreadable or short, then check-config fails as serve would at start', async () => {
    const tokenFile = join(dir, 'metrics.token')
    const file = join(dir, 'metrics.yaml')
    writeFileSync(file, `server:\n  metrics: { bearerTokenFile: ${tokenFile} }\n${VALID_YAML}`)
    const missing = capture()
    expect(await runCli(['check-config', file], missing)).toBe(EXIT.invalid)
    expect(missing.stderr()).toMatch(/server\.metrics\.bearerTokenFile: cannot read .*ENOENT/)
    writeFileSync(tokenFile, 'short\n')
    const short = capture()
    expect(await runCli(['check-config', file], short)).toBe(EXIT.invalid)
    expect(short.stderr()).toContain('must hold a token of at least 16 characters')
    writeFileSync(tokenFile, 'metrics-token-0123456789abcdef\n')
    const ok = capture()
    expect(await runCli(['check-config', file], ok)).toBe(EXIT.ok)
  })

  it('when check-config is given a config with five mistakes, then it exits 1 listing every one with its path', async () => {
    const io = capture()
    expect(await runCli(['check-config', invalidFile], io)).toBe(EXIT.invalid)
    for (const path of [
      'server.trustProxyHops',
      'server.cors.origins[0]',
      'limits: unknown key: perip',
      'issuers[0].algorithms[1]',
      'rules[0].issuer',
    ]) {
      expect(io.stderr()).toContain(path)
    }
    expect(io.stderr()).toContain('5 problems')
    expect(io.stdout()).toBe('')
  })

  it('when check-config is given a missing file, then it exits 1 with a clear message and no stack trace', async () => {
    const io = capture()
    const missing = join(dir, 'nope.yaml')
    expect(await runCli(['check-config', missing], io)).toBe(EXIT.invalid)
    expect(io.stderr()).toContain(`cannot read ${missing}: ENOENT`)
    expect(io.stderr()).not.toMatch(/\n\s+at /)
  })

  it.each<[string, string[]]>([
    ['check-config with no file', ['check-config']],
    ['check-config with two files', ['check-config', 'a.yaml', 'b.yaml']],
    ['check-config with --config and a file', ['check-config', '--config', 'a.yaml', 'b.yaml']],
    ['check-config with an unknown option', ['check-config', '--verbose', 'a.yaml']],
    ['check-config with --config and no value', ['check-config', '--config']],
    ['serve with an extra argument', ['serve', '--config', 'a.yaml', 'extra']],
    ['serve with an unknown option', ['serve', '--port', '1']],
  ])('when running %s, then it is a usage error with exit code 2', async (_name, argv) => {
    const io = capture()
    expect(await runCli(argv, io)).toBe(EXIT.usage)
    expect(io.stderr()).toContain('--help')
    expect(io.stdout()).toBe('')
  })

  it('when serve has no --config and no STS_VEND_CONFIG, then it is a usage error with exit code 2', async () => {
    const io = capture({})
    expect(await runCli(['serve'], io)).toBe(EXIT.usage)
    expect(io.stderr()).toContain('STS_VEND_CONFIG')
  })
})
