// The system under load, on 127.0.0.1: the STS emulator, an RS256 issuer and `sts-vend serve` with a bench config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
} from '../../src/emulator/default-config.ts'
import type { ImageLayout } from './build.ts'
import { type BenchIssuer, startBenchIssuer } from './issuer.ts'
import { type Child, firstJsonLine, freePort, spawnNode, taskCpuNanos, waitForOk } from './proc.ts'

/** The service's own identity: the emulator's dev account key (never a real one). */
export const SERVICE_ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: DEV_ACCESS_KEY.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEV_ACCESS_KEY.secret,
  ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
}

export interface Emulator {
  proc: Child
  url: string
  counters(): Promise<EmulatorCounters>
  faults(body: unknown): Promise<void>
  clearFaults(): Promise<void>
}

export interface EmulatorCounters {
  assumeRoleCalls: number
  calls: Record<string, Record<string, number>>
  faults: Record<string, number>
  inFlight: number
  inFlightMax: number
}

/**
 * Starts `sts-vend emulator --port 0` and waits for its ready line. With `throttlePerSecond`, the bundled
 * config runs with that AssumeRole quota instead of Alibaba's 100/s.
 */
export async function startEmulatorProcess(
  core: number | null,
  options: { throttlePerSecond?: number } = {},
): Promise<Emulator> {
  const args = ['bin/sts-vend.js', 'emulator', '--port', '0']
  let dir: string | undefined
  if (options.throttlePerSecond !== undefined) {
    dir = mkdtempSync(join(tmpdir(), 'sts-vend-emulator-'))
    const file = join(dir, 'emulator.yaml')
    writeFileSync(
      file,
      stringify({ ...DEFAULT_EMULATOR_CONFIG, throttle: { perSecond: options.throttlePerSecond } }),
    )
    args.push('--config', file)
  }
  const proc = spawnNode(args, { core })
  if (dir) {
    const remove = dir
    void proc.exited.then(() => rmSync(remove, { recursive: true, force: true }))
  }
  const url = String((await firstJsonLine(proc))['sts'])
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    })
    if (res.status !== 200) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`)
    return res.json() as Promise<unknown>
  }
  return {
    proc,
    url,
    counters: () => control('GET', '/__counters') as Promise<EmulatorCounters>,
    faults: async (body) => {
      await control('POST', '/__faults', body)
    },
    clearFaults: async () => {
      await control('DELETE', '/__faults')
    },
  }
}

export interface ServiceConfigOptions {
  port: number
  emulatorUrl: string
  issuer: Pick<BenchIssuer, 'issuer' | 'jwksUri'>
  /** Default 10000 (the config default). */
  cacheMaxEntries?: number
  /** cache.maxMemoryMiB; default the config's own (64). */
  cacheMaxMemoryMiB?: number
  /** `sts.maxCallsPerSecond`; default 80 (the config default). */
  maxCallsPerSecond?: number
  /** Rule `durationSeconds.max` (the emulator's oss-app-user role allows up to 3600). */
  maxDurationSeconds?: number
}

/**
 * The bench config: one issuer, one rule (`users/${sub}/`, read-write). The per-IP and per-subject limits
 * are raised far out of reach: every request comes from 127.0.0.1, and the bench measures the limiter's
 * cost, not its 429s.
 */
export function serviceConfig(options: ServiceConfigOptions): Record<string, unknown> {
  return {
    // The soak reads the breaker state from /metrics on the main port.
    server: { host: '127.0.0.1', port: options.port, metrics: { unauthenticated: true } },
    sts: {
      endpoint: new URL(options.emulatorUrl).host,
      protocol: 'http',
      region: 'cn-hangzhou',
      maxCallsPerSecond: options.maxCallsPerSecond ?? 80,
    },
    limits: {
      perIp: { limit: 1_000_000_000, windowSeconds: 60 },
      perSubject: { limit: 1_000_000_000, windowSeconds: 60 },
    },
    cache: {
      maxEntries: options.cacheMaxEntries ?? 10_000,
      minRemainingSeconds: 300,
      ...(options.cacheMaxMemoryMiB ? { maxMemoryMiB: options.cacheMaxMemoryMiB } : {}),
    },
    issuers: [
      {
        id: 'bench',
        issuer: options.issuer.issuer,
        audiences: ['sts-vend'],
        jwksUri: options.issuer.jwksUri,
        algorithms: ['RS256'],
      },
    ],
    rules: [
      {
        id: 'app-users',
        issuer: 'bench',
        when: { groups: { contains: 'photo-app' } },
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        sessionName: 'app-${sub}',
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'users/${sub}/',
          access: 'read-write',
        },
        durationSeconds: { default: 3600, max: options.maxDurationSeconds ?? 3600 },
      },
    ],
  }
}

export interface Service {
  proc: Child
  url: string
  /** Milliseconds from spawn to the first 200 on /healthz. */
  startMs: number
  /** CPU time of all its threads up to the first 200 (robust where wall time is not: a shared machine). */
  startCpuMs: number
}

export interface StartServiceOptions {
  core: number | null
  /**
   * The image's CMD (`node <flags> dist/server.js`) and ENV (NODE_ENV=production, the warm compile cache)
   * in a layout from buildImageLayout, as the container runs it. Default: `node bin/sts-vend.js serve`
   * from the checkout (TypeScript through tsx).
   */
  image?: Pick<ImageLayout, 'dir' | 'args' | 'env'>
  /** The service's stdout (one audit line per request) goes straight into this file. */
  stdoutFile: string
  env?: NodeJS.ProcessEnv
  /** Flags for node itself (e.g. --cpu-prof). */
  nodeArgs?: readonly string[]
  /** Start inside this memory cgroup (cgroup.ts), as a container with a memory limit does. */
  cgroupDir?: string
}

/** Writes `config` to a temporary file and starts the service on it; resolves at the first 200 on /healthz. */
export async function startService(
  config: Record<string, unknown>,
  options: StartServiceOptions,
): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-bench-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, stringify(config))
  const { image } = options
  const entry = image ? image.args : ['bin/sts-vend.js', 'serve', '--config', file]
  const started = performance.now()
  const proc = spawnNode([...(options.nodeArgs ?? []), ...entry], {
    core: options.core,
    ...(image ? { cwd: image.dir } : {}),
    env: {
      ...SERVICE_ENV,
      ...(image ? { ...image.env, STS_VEND_CONFIG: file } : {}),
      ...options.env,
    },
    stdoutFile: options.stdoutFile,
    ...(options.cgroupDir ? { cgroupDir: options.cgroupDir } : {}),
  })
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }))
  const { port } = config['server'] as { port: number }
  const url = `http://127.0.0.1:${port}`
  await waitForOk(`${url}/healthz`, proc)
  const startMs = performance.now() - started
  return { proc, url, startMs, startCpuMs: taskCpuNanos(proc.pid) / 1e6 }
}

export interface BareExpress {
  proc: Child
  port: number
  url: string
  /** The JSON body it answers: sts-vend's answer from `sampleUrl` with every string value blanked. */
  bodyFile: string
  /** The response headers of that sts-vend answer (but those express sets itself), as [name, value] pairs. */
  headersFile: string
}

/** Headers express or node set on every answer anyway; the rest are what sts-vend adds. */
const EXPRESS_OWN = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'content-type',
  'etag',
  'x-powered-by',
])

/**
 * Bare express answering a JSON body of exactly the size of sts-vend's json answer (values blanked);
 * with `withHeaders`, it also sets sts-vend's own response headers (values as sampled) on every answer.
 */
export async function startBareExpress(
  sampleUrl: string,
  token: string,
  work: string,
  core: number | null,
  withHeaders = false,
): Promise<BareExpress> {
  const res = await fetch(`${sampleUrl}/v1/credentials`, { headers: { authorization: `Bearer ${token}` } })
  const sample = (await res.json()) as Record<string, unknown>
  const blank = Object.fromEntries(
    Object.entries(sample).map(([k, v]) => [k, typeof v === 'string' ? 'x'.repeat(v.length) : v]),
  )
  const bodyFile = join(work, 'body.json')
  writeFileSync(bodyFile, JSON.stringify(blank))
  const headersFile = join(work, 'headers.json')
  const headers: [string, string][] = []
  res.headers.forEach((value, name) => {
    if (!EXPRESS_OWN.has(name)) headers.push([name, value])
  })
  writeFileSync(headersFile, JSON.stringify(headers))
  const port = await freePort()
  const args = [
    'bench/servers/bare-express.js',
    String(port),
    bodyFile,
    ...(withHeaders ? [headersFile] : []),
  ]
  const proc = spawnNode(args, { core, env: { NODE_ENV: 'production' } })
  const url = `http://127.0.0.1:${port}`
  await waitForOk(`${url}/healthz`, proc)
  return { proc, port, url, bodyFile, headersFile }
}

export { freePort, startBenchIssuer }
