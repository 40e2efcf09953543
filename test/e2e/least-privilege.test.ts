// Least privilege end to end: sts-vend serve vends, the emulator (--tls, --oss-port) enforces, real ali-oss calls (V4, virtual-host) and V4 forms; simulate and explain agree.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { DEV_ROOT_ACCESS_KEY, VPC_ID_HEADER } from '../../src/emulator/index.ts'
import {
  type OssClient,
  ossClient,
  ossRequest,
  outcome,
  postObjectV4,
  type RawAnswer,
} from '../fixtures/oss.ts'
import {
  CELLS,
  type Cell,
  cellTitle,
  GRANTS,
  type Grant,
  MATRIX_EMULATOR_CONFIG,
  MATRIX_RULES,
  SEED_OBJECTS,
  sessionAllows,
  simulateAction,
} from '../fixtures/oss-matrix.ts'
import {
  type CliProcess,
  firstJsonLine,
  freePort,
  identityEnv,
  spawnCli,
  waitForOk,
} from '../fixtures/processes.ts'
import { corpIssuer } from '../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'

interface Vended {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string
  /** The bucket, or the access point alias. */
  bucket: string
  /** For the ossbrowser format: the decoded authorization code. */
  code?: Record<string, string>
}

let dir: string
let issuer: TestIssuer
let emulator: CliProcess
let service: CliProcess
let line: Record<string, unknown>
let ca: string
let serviceUrl: string
let serviceConfig: string
const vended = new Map<string, Vended>()
/** What the emulator actually answered, per cell, for the agreement checks. */
const answered = new Map<Cell, string>()

/** https to the emulator, trusting only its certificate. */
function emulatorRequest(
  url: string,
  method = 'GET',
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      )
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('emulator request timed out')))
    req.end(body)
  })
}

async function api(path: string, sub: string, body: Record<string, unknown>) {
  const token = await issuer.sign({ sub })
  const res = await fetch(`${serviceUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function credentialsFor(grant: Grant, extra: Record<string, unknown> = {}): Promise<Vended> {
  const key = `${grant.id}${JSON.stringify(extra)}`
  const known = vended.get(key)
  if (known) return known
  const { status, body } = await api('/v1/credentials', grant.sub, {
    ...grant.ask,
    ...extra,
    format: grant.format ?? 'json',
  })
  expect(status, JSON.stringify(body)).toBe(200)
  let result: Vended
  if (grant.format === 'ossbrowser') {
    // What a person pastes into ossbrowser: the authorization code's key, secret, token and preset path.
    const code = JSON.parse(Buffer.from(String(body['authorizationCode']), 'base64').toString('utf8'))
    const bucket = /^oss:\/\/([^/]+)\//.exec(String(code.osspath))?.[1] ?? ''
    result = { accessKeyId: code.id, accessKeySecret: code.secret, securityToken: code.stoken, bucket, code }
  } else {
    result = {
      accessKeyId: String(body['accessKeyId']),
      accessKeySecret: String(body['accessKeySecret']),
      securityToken: String(body['securityToken']),
      bucket: String(body['bucket']),
    }
  }
  vended.set(key, result)
  return result
}

function clientFor(creds: Vended, cell: Partial<Cell> = {}, url = String(line['oss'])): OssClient {
  return ossClient({
    url,
    bucket: cell.bucket ?? creds.bucket,
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    stsToken: creds.securityToken,
    ca,
    ...(cell.sourceIp ? { localAddress: cell.sourceIp } : {}),
  })
}

const codeOf = (res: RawAnswer) => (res.status < 300 ? 'ok' : (res.code ?? `HTTP ${res.status}`))

async function presignedGet(creds: Vended, cell: Cell): Promise<string> {
  // A V4 presigned URL for https://<bucket>.oss-cn-hangzhou.aliyuncs.com:<port>/<key>.
  const url = await clientFor(creds, cell).signatureUrlV4('GET', 300, undefined, cell.key)
  return codeOf(await ossRequest(url, { ca }))
}

async function postObject(creds: Vended, cell: Cell): Promise<string> {
  const res = await postObjectV4({
    url: String(line['oss']),
    bucket: cell.bucket ?? creds.bucket,
    key: cell.key,
    body: Buffer.from(`posted by ${cell.grant}`),
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    stsToken: creds.securityToken,
    ca,
  })
  return codeOf(res)
}

async function run(cell: Cell): Promise<string> {
  const grant = GRANTS.find((g) => g.id === cell.grant)
  if (!grant) throw new Error(`no grant ${cell.grant}`)
  const creds = await credentialsFor(grant)
  const client = clientFor(creds, cell)
  const options = cell.vpc ? { headers: { [VPC_ID_HEADER]: cell.vpc } } : {}
  const listing = {
    prefix: cell.key,
    ...(cell.delimiter !== undefined ? { delimiter: cell.delimiter } : {}),
    'max-keys': cell.maxKeys ?? 100,
  }
  switch (cell.op) {
    case 'put':
      return outcome(client.put(cell.key, Buffer.from(`written by ${cell.grant}`), options))
    case 'get':
      return outcome(client.get(cell.key, options))
    case 'head':
      return outcome(client.head(cell.key, options))
    case 'delete':
      return outcome(client.delete(cell.key, options))
    case 'list':
      return outcome(client.list(listing, options))
    case 'listV2':
      return outcome(client.listV2(listing, options))
    case 'multipart':
      return outcome(client.multipartUpload(cell.key, Buffer.alloc(250 * 1024, 7), { partSize: 100 * 1024 }))
    case 'bucketInfo':
      return outcome(client.getBucketInfo(cell.bucket ?? creds.bucket))
    case 'listUploads':
      return outcome(client.listUploads({ prefix: cell.key }))
    case 'presignedGet':
      return presignedGet(creds, cell)
    case 'append':
      return outcome(client.append(cell.key, Buffer.from('line\n'), { position: '0' }))
    case 'postObject':
      return postObject(creds, cell)
    case 'copy':
      return outcome(client.copy(cell.target ?? '', cell.key))
    case 'taggedPut':
      return outcome(
        client.put(cell.key, Buffer.from('tagged'), { headers: { 'x-oss-tagging': 'project=alpha' } }),
      )
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-least-privilege-'))
  const emulatorConfig = join(dir, 'emulator.yaml')
  writeFileSync(emulatorConfig, stringify(MATRIX_EMULATOR_CONFIG))
  emulator = spawnCli([
    'emulator',
    '--config',
    emulatorConfig,
    '--port',
    '0',
    '--oss-port',
    '0',
    '--tls',
    '--simulate-network',
  ])
  ;[issuer, line] = await Promise.all([startTestIssuer(), firstJsonLine(emulator)])
  ca = readFileSync(String(line['ca']), 'utf8')
  const port = await freePort()
  serviceConfig = join(dir, 'service.yaml')
  writeFileSync(
    serviceConfig,
    stringify({
      server: { host: '127.0.0.1', port },
      sts: { endpoint: new URL(String(line['sts'])).host, protocol: 'https', region: 'cn-hangzhou' },
      limits: { perIp: { limit: 10_000 }, perSubject: { limit: 10_000 } },
      issuers: [corpIssuer(issuer)],
      rules: MATRIX_RULES,
    }),
  )
  service = spawnCli(['serve', '--config', serviceConfig], {
    ...identityEnv(),
    NODE_EXTRA_CA_CERTS: String(line['ca']),
  })
  serviceUrl = `http://127.0.0.1:${port}`
  const owner = ossClient({
    url: String(line['oss']),
    bucket: 'examplebucket',
    // The bucket owner seeds objects with the account's root key; the service's RAM user has no OSS rights.
    accessKeyId: DEV_ROOT_ACCESS_KEY.id,
    accessKeySecret: DEV_ROOT_ACCESS_KEY.secret,
    ca,
  })
  await Promise.all([
    waitForOk(`${serviceUrl}/healthz`, service),
    ...SEED_OBJECTS.map((key) => owner.put(key, Buffer.from(`seeded ${key}`))),
  ])
}, 30_000)

afterAll(async () => {
  await Promise.all([service?.stop(), emulator?.stop(), issuer?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('sts-vend emulator --tls --oss-port 0', () => {
  it('when it listens, then its one JSON line names https STS and OSS endpoints and the CA', () => {
    expect(Object.keys(line)).toEqual(['sts', 'oss', 'ca'])
    expect(line['sts']).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(line['oss']).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(line['oss']).not.toBe(line['sts'])
  })
})

describe('least privilege: each grant can do exactly what its rule grants, through ali-oss', () => {
  it.each(CELLS.map((cell) => [cellTitle(cell), cell] as const))(
    'when %s, then the emulator answers as expected',
    async (_title, cell) => {
      const got = await run(cell)
      answered.set(cell, got)
      expect(got).toBe(cell.expect)
    },
  )

  it('when alice logs on to ossbrowser, then the authorization code names her preset path', async () => {
    const grant = GRANTS.find((g) => g.format === 'ossbrowser')
    if (!grant) throw new Error('no ossbrowser grant')
    const { code } = await credentialsFor(grant)
    expect(code).toMatchObject({
      osspath: 'oss://examplebucket/users/alice/',
      region: 'oss-cn-hangzhou',
      privilege: 'all',
    })
  })

  it('when the emulator clock passes the expiration of alice’s credentials, then ali-oss gets SecurityTokenExpired', async () => {
    const grant = GRANTS[0] as Grant
    const client = clientFor(await credentialsFor(grant, { durationSeconds: 900 }))
    expect(await outcome(client.put('users/alice/late.txt', Buffer.from('x')))).toBe('ok')
    const moved = await emulatorRequest(
      `${line['sts']}/__clock`,
      'POST',
      JSON.stringify({ offsetSeconds: 901 }),
    )
    expect(moved.status).toBe(200)
    try {
      expect(await outcome(client.put('users/alice/late.txt', Buffer.from('x')))).toBe('SecurityTokenExpired')
      expect(await outcome(client.get('users/alice/late.txt'))).toBe('SecurityTokenExpired')
    } finally {
      await emulatorRequest(`${line['sts']}/__clock`, 'POST', JSON.stringify({ offsetSeconds: 0 }))
    }
  })
})

function checksOf(cells: readonly Cell[]) {
  return cells.map((cell) => ({
    action: simulateAction(cell.op),
    ...(cell.op === 'bucketInfo' ? {} : { key: cell.key }),
    ...(cell.bucket ? { bucket: cell.bucket } : {}),
    ...(cell.sourceIp ? { sourceIp: cell.sourceIp } : {}),
  }))
}

/**
 * The session-policy verdict each cell must get: what the emulator answered in this run (the data's
 * expectation when the cell did not run, e.g. under -t), except where a cell says why the emulator
 * decides beyond the session policy.
 */
function agreed(cells: readonly Cell[]): boolean[] {
  return cells.map((cell) => {
    if (cell.sessionOnly) return cell.sessionOnly.allowed
    const got = answered.get(cell)
    return got === undefined ? sessionAllows(cell) : got === 'ok'
  })
}

describe('the same matrix through /v1/simulate and sts-vend explain', () => {
  it.each(GRANTS.map((g) => [g.id, g] as const))(
    'when /v1/simulate checks every cell of %s, then it agrees with the emulator',
    async (_id, grant) => {
      const cells = CELLS.filter((c) => c.grant === grant.id)
      const { status, body } = await api('/v1/simulate', grant.sub, { ...grant.ask, checks: checksOf(cells) })
      expect(status, JSON.stringify(body)).toBe(200)
      const checks = body['checks'] as { allowed: boolean }[]
      expect(checks.map((c) => c.allowed)).toEqual(agreed(cells))
      expect(checks.map((c) => c.allowed)).toEqual(cells.map(sessionAllows))
    },
  )

  const explained = GRANTS.filter((g) =>
    ['alice read-write', 'alice upload-only', 'dana ap-01 read dir1'].includes(g.id),
  )

  it('when sts-vend explain checks the cells of three grants, then every verdict agrees with the emulator', async () => {
    const results = await Promise.all(
      explained.map(async (grant) => {
        const cells = CELLS.filter((c) => c.grant === grant.id && !c.bucket && !c.sourceIp && !c.vpc)
        const claims = join(dir, `claims-${grant.sub}.json`)
        writeFileSync(claims, JSON.stringify({ iss: issuer.issuer, sub: grant.sub, aud: 'sts-vend' }))
        const args = [
          'explain',
          '--config',
          serviceConfig,
          '--claims',
          claims,
          '--request',
          JSON.stringify(grant.ask),
          '--json',
        ]
        for (const cell of cells)
          args.push('--check', `${simulateAction(cell.op)}:${cell.op === 'bucketInfo' ? '' : cell.key}`)
        const proc = spawnCli(args)
        const timer = setTimeout(() => void proc.stop('SIGKILL'), 15_000)
        const code = await proc.exited
        clearTimeout(timer)
        return { cells, code, out: JSON.parse(proc.stdout()) as { checks: { allowed: boolean }[] } }
      }),
    )
    for (const { cells, code, out } of results) {
      expect(out.checks.map((c) => c.allowed)).toEqual(agreed(cells))
      expect(code).toBe(agreed(cells).every(Boolean) ? 0 : 3)
    }
  })
})
