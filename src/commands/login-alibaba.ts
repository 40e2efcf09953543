// `sts-vend login-alibaba`: signs a GetCallerIdentity with the caller's own Alibaba credential (the standard
// chain) and prints the `Authorization` header value for an alibaba-identity issuer (issue 21, design §14).
import { parseArgs } from 'node:util'
import { encodeAlibabaCredential } from '../auth/alibaba-request.ts'
import { signCallerIdentity } from '../sts/alibaba-client.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

const DEFAULT_ENDPOINT = 'sts.aliyuncs.com'
const AUDIENCE = /^[A-Za-z0-9][A-Za-z0-9.:/_-]{0,254}$/
const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:]+\](:\d{1,5})?$/

/** `HOST[:PORT]` as given, or the `host[:port]` of an http(s) URL without path, query or fragment. */
export function parseEndpoint(text: string): string {
  if (HOST_PORT.test(text)) return text
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (
    !url ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname !== '/' ||
    url.search ||
    url.hash ||
    url.username
  )
    throw new UsageError(`--endpoint must be HOST[:PORT] or an http(s) URL, got ${JSON.stringify(text)}`)
  return url.host
}

function parseLoginArgs(argv: string[]): { audience: string; endpoint: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { audience: { type: 'string' }, endpoint: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.audience === undefined) throw new UsageError('--audience AUD is required')
  if (!AUDIENCE.test(values.audience))
    throw new UsageError('--audience must be 1-255 of [A-Za-z0-9.:/_-], starting with a letter or digit')
  return { audience: values.audience, endpoint: parseEndpoint(values.endpoint ?? DEFAULT_ENDPOINT) }
}

/** The header value for `audience` at `endpoint`; throws when the credential chain cannot sign. */
export async function alibabaLoginHeader(audience: string, endpoint: string): Promise<string> {
  return `AlibabaIdentity ${encodeAlibabaCredential(await signCallerIdentity({ audience, endpoint }))}`
}

export const loginAlibabaCommand: Command = {
  summary: 'print an AlibabaIdentity Authorization header signed with your Alibaba credential',
  help: `Usage: sts-vend login-alibaba --audience AUD [--endpoint HOST[:PORT] | URL]

Signs an STS GetCallerIdentity request (ACS3-HMAC-SHA256) with the Alibaba credential of the standard
chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET[/SECURITY_TOKEN], the credentials file, RRSA, the ECS instance
RAM role, ...), binds AUD into it as the signed x-acs-sts-vend-audience header, and prints one line:
the Authorization header value "AlibabaIdentity <base64url>". Nothing is sent to STS: sts-vend forwards
the request to its own configured stsEndpoint. Your secret never leaves this process. Each line is good
for one request within 15 minutes (its nonce is spent on use).

Options:
  --audience AUD      the audience of the sts-vend alibaba-identity issuer (required)
  --endpoint ENDPOINT the STS host[:port] the issuer forwards to (its stsEndpoint), or an http(s) URL of
                      it (default ${DEFAULT_ENDPOINT})

Example:
  curl -H "Authorization: $(sts-vend login-alibaba --audience sts-vend.example.com \\
         --endpoint sts-vpc.cn-hangzhou.aliyuncs.com)" https://sts-vend.example.com/v1/credentials

Exit codes: 0 printed the header, 1 cannot sign (no credential in the chain), 2 usage error.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { audience, endpoint } = parseLoginArgs(argv)
    let header: string
    try {
      header = await alibabaLoginHeader(audience, endpoint)
    } catch {
      // The provider's message can quote metadata or STS answers: say only what failed.
      io.err('sts-vend login-alibaba: cannot sign: no usable Alibaba credential in the standard chain\n')
      return EXIT.invalid
    }
    io.out(`${header}\n`)
    return EXIT.ok
  },
}
