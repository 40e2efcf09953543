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
import { type BenchIssuer, startBenchIssuer } from './issuer.ts'
import { type Child, firstJsonLine, freePort, spawnNode, waitForOk } from './proc.ts'

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
    cache: { maxEntries: options.cacheMaxEntries ?? 10_000, minRemainingSeconds: 300 },
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
}

export interface StartServiceOptions {
  core: number | null
  /**
   * `image`: `node dist/server.js` in a layout from buildImageLayout, with NODE_ENV=production, as the
   * container runs it. Default: `node bin/sts-vend.js serve` from the checkout (TypeScript through tsx).
   */
  imageDir?: string
  /** The service's stdout (one audit line per request) goes straight into this file. */
  stdoutFile: string
  env?: NodeJS.ProcessEnv
  /** Flags for node itself (e.g. --cpu-prof). */
  nodeArgs?: readonly string[]
}

/** Writes `config` to a temporary file and starts the service on it; resolves at the first 200 on /healthz. */
export async function startService(
  config: Record<string, unknown>,
  options: StartServiceOptions,
): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-bench-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, stringify(config))
  const entry = options.imageDir ? ['dist/server.js'] : ['bin/sts-vend.js', 'serve', '--config', file]
  const started = performance.now()
  const proc = spawnNode([...(options.nodeArgs ?? []), ...entry], {
    core: options.core,
    ...(options.imageDir ? { cwd: options.imageDir } : {}),
    env: {
      ...SERVICE_ENV,
      ...(options.imageDir ? { NODE_ENV: 'production', STS_VEND_CONFIG: file } : {}),
      ...options.env,
    },
    stdoutFile: options.stdoutFile,
  })
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }))
  const { port } = config['server'] as { port: number }
  const url = `http://127.0.0.1:${port}`
  await waitForOk(`${url}/healthz`, proc)
  return { proc, url, startMs: performance.now() - started }
}

export { freePort, startBenchIssuer }
