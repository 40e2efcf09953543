// `sts-vend login-alibaba` (issue 21): usage errors, endpoint forms, and the one line it prints.
import { afterEach, describe, expect, it } from 'vitest'
import { parseAlibabaCredential } from '../../../src/auth/alibaba-request.ts'
import { runCli } from '../../../src/cli.ts'
import { parseEndpoint } from '../../../src/commands/login-alibaba.ts'
import { captureIo } from '../../fixtures/cli-io.ts'

const KEYS = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] as const
const saved = KEYS.map((k) => process.env[k])
afterEach(() => {
  KEYS.forEach((k, i) => {
    if (saved[i] === undefined) delete process.env[k]
    else process.env[k] = saved[i]
  })
})

describe('sts-vend login-alibaba', () => {
  it.each([
    [[], '--audience AUD is required'],
    [['--audience', ' bad'], '--audience must be'],
    [['--audience', 'a', '--endpoint', 'https://sts.aliyuncs.com/path'], '--endpoint must be'],
    [['--audience', 'a', 'extra'], 'unexpected argument'],
    [['--audience', 'a', '--region', 'x'], 'Unknown option'],
  ])('when run with %j, then it is a usage error (exit 2) naming the problem', async (argv, message) => {
    const io = captureIo()
    expect(await runCli(['login-alibaba', ...argv], io)).toBe(2)
    expect(io.stderr()).toContain(message)
    expect(io.stdout()).toBe('')
  })

  it('when --endpoint is a URL, then its host[:port] is what the request is signed for', () => {
    expect(parseEndpoint('http://127.0.0.1:9000')).toBe('127.0.0.1:9000')
    expect(parseEndpoint('https://sts-vpc.cn-hangzhou.aliyuncs.com/')).toBe(
      'sts-vpc.cn-hangzhou.aliyuncs.com',
    )
    expect(parseEndpoint('sts.aliyuncs.com:8443')).toBe('sts.aliyuncs.com:8443')
  })

  it('when an AccessKey is in the environment, then one line "AlibabaIdentity <base64url>" is printed, signed for the audience and host', async () => {
    process.env['ALIBABA_CLOUD_ACCESS_KEY_ID'] = 'LTAIexampleKeyId02'
    process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = 'exampleSecret02'
    const io = captureIo()
    const argv = ['login-alibaba', '--audience', 'sts-vend.test', '--endpoint', 'http://127.0.0.1:9000']
    expect(await runCli(argv, io)).toBe(0)
    const lines = io.stdout().split('\n')
    expect(lines).toHaveLength(2)
    const [scheme, credential = ''] = (lines[0] ?? '').split(' ')
    expect(scheme).toBe('AlibabaIdentity')
    const checked = parseAlibabaCredential(credential)
    expect(checked).toMatchObject({
      audience: 'sts-vend.test',
      host: '127.0.0.1:9000',
      accessKeyId: 'LTAIexampleKeyId02',
    })
    expect(io.stdout()).not.toContain('exampleSecret02')
  })

  it('when --help is asked, then it lists exit codes 0, 1 and 2', async () => {
    const io = captureIo()
    expect(await runCli(['login-alibaba', '--help'], io)).toBe(0)
    expect(io.stdout()).toContain('Exit codes: 0 printed the header, 1 cannot sign')
  })
})
