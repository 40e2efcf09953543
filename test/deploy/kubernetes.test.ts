// deploy/kubernetes/: every manifest parses, and its ports, probes, paths, env names and config agree with the code.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import type { CliIo } from '../../src/cli.ts'
import { createAgentCommand } from '../../src/commands/agent.ts'
import { configSchema, loadConfig } from '../../src/config/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const dir = join(root, 'deploy/kubernetes')

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML; each test asserts the shape it reads.
type Doc = Record<string, any>

function yamlFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name)
    if (statSync(path).isDirectory()) return yamlFiles(path)
    return name.endsWith('.yaml') || name.endsWith('.yml') ? [path] : []
  })
}

const files = yamlFiles(dir)
const docsByFile = new Map<string, Doc[]>(
  files.map((file) => {
    const documents = parseAllDocuments(readFileSync(file, 'utf8'))
    for (const d of documents) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`)
    return [relative(dir, file), documents.map((d) => d.toJS() as Doc).filter((d) => d !== null)]
  }),
)
const all = [...docsByFile.entries()].flatMap(([file, docs]) => docs.map((doc) => ({ file, doc })))
const mainDocs = all.filter(({ file }) => !file.startsWith('examples/')).map(({ doc }) => doc)

function find(kind: string, name: string, docs: Doc[] = mainDocs): Doc {
  const doc = docs.find((d) => d['kind'] === kind && d['metadata']?.['name'] === name)
  if (!doc) throw new Error(`no ${kind} ${name}`)
  return doc
}

const deployment = find('Deployment', 'sts-vend')
const pod = deployment['spec']['template']['spec']
const container = pod['containers'].find((c: Doc) => c['name'] === 'sts-vend') as Doc
const env = new Map<string, string>(container['env'].map((e: Doc) => [e['name'], e['value']]))
const configMap = find('ConfigMap', 'sts-vend-config')
const config = loadConfig(configMap['data']['config.yaml'])
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')

/** Every ALIBABA_CLOUD_* name the shipped @alicloud/credentials reads from process.env. */
function sdkEnvNames(): Set<string> {
  const names = new Set<string>()
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.js'))
        for (const m of readFileSync(path, 'utf8').matchAll(/process\.env\.(ALIBABA_CLOUD_[A-Z0-9_]+)/g))
          names.add(m[1] as string)
    }
  }
  walk(join(root, 'node_modules/@alicloud/credentials/dist/src'))
  return names
}

describe('every manifest', () => {
  it('when parsed, then each document has apiVersion, kind and a name, and the files are the expected set', () => {
    expect([...docsByFile.keys()].sort()).toEqual([
      'cache-key-secret.yaml',
      'configmap.yaml',
      'deployment.yaml',
      'examples/agent-sidecar.yaml',
      'hpa.yaml',
      'kustomization.yaml',
      'pdb.yaml',
      'redis.yaml',
      'service.yaml',
      'serviceaccount.yaml',
    ])
    for (const { file, doc } of all) {
      expect(doc['apiVersion'], file).toEqual(expect.any(String))
      expect(doc['kind'], file).toEqual(expect.any(String))
      if (doc['kind'] !== 'Kustomization') expect(doc['metadata']?.['name'], file).toEqual(expect.any(String))
    }
  })

  it('when images are named, then each is pinned to a version, never latest', () => {
    const images = all.flatMap(({ doc }) => {
      const spec = doc['spec']?.['template']?.['spec']
      return [...(spec?.['containers'] ?? []), ...(spec?.['initContainers'] ?? [])].map(
        (c: Doc) => c['image'] as string,
      )
    })
    expect(images.length).toBeGreaterThanOrEqual(4)
    for (const image of images) expect(image).toMatch(/:(?!latest$)[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?$/)
  })

  it('when a workload runs, then every container is non-root, read-only, without privilege escalation, with requests and limits', () => {
    const workloads = all.filter(({ doc }) => doc['kind'] === 'Deployment')
    expect(workloads.length).toBe(3)
    for (const { file, doc } of workloads) {
      const spec = doc['spec']['template']['spec']
      expect(spec['securityContext']?.['runAsNonRoot'], file).toBe(true)
      expect(spec['automountServiceAccountToken'], file).toBe(false)
      for (const c of [...spec['containers'], ...(spec['initContainers'] ?? [])] as Doc[]) {
        expect(c['securityContext'], `${file} ${c['name']}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        })
        for (const kind of ['requests', 'limits'])
          expect(Object.keys(c['resources']?.[kind] ?? {}).sort(), `${file} ${c['name']} ${kind}`).toEqual([
            'cpu',
            'memory',
          ])
      }
    }
  })
})

describe('kustomization', () => {
  it('when its resources are read, then they are exactly the top-level manifests', () => {
    const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Doc
    const topLevel = [...docsByFile.keys()].filter((f) => !f.includes('/') && f !== 'kustomization.yaml')
    expect([...kustomization['resources']].sort()).toEqual(topLevel.sort())
  })
})

describe('the sts-vend Deployment', () => {
  it('when scheduled, then at least 2 replicas, and the PDB and HPA keep it that way', () => {
    expect(deployment['spec']['replicas']).toBeGreaterThanOrEqual(2)
    const pdb = find('PodDisruptionBudget', 'sts-vend')
    expect(pdb['spec']['minAvailable']).toBeLessThan(deployment['spec']['replicas'])
    expect(pdb['spec']['selector']['matchLabels']).toEqual(
      deployment['spec']['template']['metadata']['labels'],
    )
    const hpa = find('HorizontalPodAutoscaler', 'sts-vend')
    expect(hpa['spec']['scaleTargetRef']).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'sts-vend',
    })
    expect(hpa['spec']['minReplicas']).toBeGreaterThanOrEqual(2)
    expect(hpa['spec']['maxReplicas']).toBeGreaterThanOrEqual(hpa['spec']['minReplicas'])
  })

  it("when every replica calls STS at its cap, with or without the fleet's Redis, then the account stays under Alibaba's 100 AssumeRole/s", () => {
    const hpa = find('HorizontalPodAutoscaler', 'sts-vend')
    const max = config.sts.maxCallsPerSecond
    if (!config.fleet) {
      expect(hpa['spec']['maxReplicas'] * max).toBeLessThanOrEqual(100)
      return
    }
    // Fleet mode: one budget for all; without Redis, each replica's local share.
    expect(max).toBeLessThanOrEqual(100)
    const localShare = Math.max(1, Math.floor(max / config.fleet.expectedReplicas))
    expect(hpa['spec']['maxReplicas'] * localShare).toBeLessThanOrEqual(100)
  })

  it('when fleet mode reads its cache key, then fleet.cacheKeyFile is the sts-vend-cache-key Secret mounted read-only, owner-only', () => {
    const file = config.fleet?.cacheKeyFile ?? ''
    const mount = container['volumeMounts'].find((m: Doc) => file.startsWith(`${m['mountPath']}/`)) as Doc
    expect(mount['readOnly']).toBe(true)
    const volume = pod['volumes'].find((v: Doc) => v['name'] === mount['name']) as Doc
    expect(volume['secret']['defaultMode']).toBe(0o400)
    const item = volume['secret']['items'][0] as Doc
    expect(`${mount['mountPath']}/${item['path']}`).toBe(file)
    const secret = find('Secret', volume['secret']['secretName'])
    expect(Object.keys(secret['stringData'] ?? secret['data'])).toContain(item['key'])
    expect(config.limits.redisUrl).toBe(config.fleet?.redisUrl)
  })

  it('when it listens, then containerPort, the config port, EXPOSE and the Service agree on 8080', () => {
    expect(container['ports']).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ])
    expect(config.server.port).toBe(8080)
    expect(configSchema.parse({ issuers: config.issuers, rules: config.rules }).server.port).toBe(8080)
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m)
    const service = find('Service', 'sts-vend')
    expect(service['spec']['selector']).toEqual(deployment['spec']['template']['metadata']['labels'])
    expect(service['spec']['ports'][0]['targetPort']).toBe('http')
  })

  it('when Prometheus scrapes, then the pod annotations name the config metrics listener, the main port has no /metrics and the Service does not expose it (issue 16 item 7)', () => {
    const listen = config.server.metrics.listen
    expect(listen).toEqual({ host: '0.0.0.0', port: 9090 })
    expect(config.server.metrics.unauthenticated).toBe(false)
    expect(deployment['spec']['template']['metadata']['annotations']).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(listen?.port),
      'prometheus.io/path': '/metrics',
    })
    const port = (container['ports'] as Doc[]).find((p) => p['name'] === 'metrics')
    expect(port?.['containerPort']).toBe(listen?.port)
    const service = find('Service', 'sts-vend')
    expect(service['spec']['ports'].map((p: Doc) => p['targetPort'])).toEqual(['http'])
  })

  it('when probed, then liveness is /healthz and readiness /readyz on the http port, both served by the app', () => {
    expect(container['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'http' })
    expect(container['startupProbe']['httpGet']).toEqual({ path: '/healthz', port: 'http' })
    expect(container['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'http' })
    const openapi = parse(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as Doc
    expect(Object.keys(openapi['paths'])).toEqual(expect.arrayContaining(['/healthz', '/readyz']))
    const health = readFileSync(join(root, 'src/routes/health.ts'), 'utf8')
    expect(health).toContain("router.get('/healthz'")
    expect(health).toContain("router.get('/readyz'")
  })

  it('when the pod starts, then it runs as uid 1000, the node user the image warmed its compile cache as (Node keys that cache by uid)', () => {
    expect(pod['securityContext']['runAsUser']).toBe(1000)
    // The build stage switches to node before the warm-up; the node image's node user is uid 1000.
    expect(dockerfile).toMatch(/USER node\nENV NODE_COMPILE_CACHE=\/app\/\.compile-cache\nRUN node /)
    const container = pod['containers'].find((c: Doc) => c['name'] === 'sts-vend') as Doc
    expect(container['securityContext']?.['runAsUser'] ?? 1000).toBe(1000)
  })

  it('when the config is mounted, then STS_VEND_CONFIG (here and in the image) names the ConfigMap key at the mount path', () => {
    const mount = container['volumeMounts'].find((m: Doc) => m['name'] === 'config') as Doc
    const volume = pod['volumes'].find((v: Doc) => v['name'] === 'config') as Doc
    expect(volume['configMap']['name']).toBe('sts-vend-config')
    expect(mount).toEqual({ name: 'config', mountPath: '/etc/sts-vend', readOnly: true })
    expect(Object.keys(configMap['data'])).toEqual(['config.yaml'])
    expect(env.get('STS_VEND_CONFIG')).toBe('/etc/sts-vend/config.yaml')
    expect(dockerfile).toMatch(/STS_VEND_CONFIG=\/etc\/sts-vend\/config\.yaml/)
  })

  it('when it authenticates to Alibaba, then RRSA env names are ones the shipped @alicloud/credentials reads, and no AccessKey', () => {
    const names = sdkEnvNames()
    const alibaba = [...env.keys()].filter((name) => name.startsWith('ALIBABA_CLOUD_'))
    expect(alibaba).toEqual(
      expect.arrayContaining([
        'ALIBABA_CLOUD_ROLE_ARN',
        'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
        'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
        'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
      ]),
    )
    for (const name of alibaba) expect(names, name).toContain(name)
    expect(alibaba.filter((name) => /ACCESS_KEY|SECURITY_TOKEN/.test(name))).toEqual([])
    expect(env.get('ALIBABA_CLOUD_ECS_METADATA_DISABLED')).toBe('true')
    expect(env.get('ALIBABA_CLOUD_ROLE_ARN')).toMatch(/^acs:ram::[^:]+:role\/[\w.-]+$/)
    expect(env.get('ALIBABA_CLOUD_OIDC_PROVIDER_ARN')).toMatch(/^acs:ram::[^:]+:oidc-provider\/ack-rrsa-/)
  })

  it('when the RRSA token is projected, then ALIBABA_CLOUD_OIDC_TOKEN_FILE is that file, for audience sts.aliyuncs.com', () => {
    const volume = pod['volumes'].find((v: Doc) => v['name'] === 'rrsa-oidc-token') as Doc
    const source = volume['projected']['sources'][0]['serviceAccountToken'] as Doc
    expect(source['audience']).toBe('sts.aliyuncs.com')
    const mount = container['volumeMounts'].find((m: Doc) => m['name'] === 'rrsa-oidc-token') as Doc
    expect(env.get('ALIBABA_CLOUD_OIDC_TOKEN_FILE')).toBe(`${mount['mountPath']}/${source['path']}`)
  })

  it('when the service account is bound, then its RRSA annotation names the role of ALIBABA_CLOUD_ROLE_ARN', () => {
    const account = find('ServiceAccount', 'sts-vend')
    expect(pod['serviceAccountName']).toBe('sts-vend')
    const role = env.get('ALIBABA_CLOUD_ROLE_ARN')?.split('role/')[1]
    expect(account['metadata']['annotations']['pod-identity.alibabacloud.com/role-name']).toBe(role)
  })
})

describe('the production config', () => {
  it('when loaded with the real schema, then it listens on 0.0.0.0 and keeps limits in Redis', () => {
    expect(config.server.host).toBe('0.0.0.0')
    expect(config.limits.store).toBe('redis')
  })

  it('when limits.redisUrl is resolved, then it names the Redis Service and port', () => {
    const url = new URL(config.limits.redisUrl)
    const service = find('Service', url.hostname)
    expect(service['spec']['ports'].map((p: Doc) => p['port'])).toContain(Number(url.port || 6379))
    const redis = find('Deployment', url.hostname)
    expect(service['spec']['selector']).toEqual(redis['spec']['template']['metadata']['labels'])
    const policy = find('NetworkPolicy', url.hostname)
    expect(policy['spec']['ingress'][0]['from'][0]['podSelector']['matchLabels']).toEqual(
      deployment['spec']['template']['metadata']['labels'],
    )
  })
})

describe('the agent sidecar example', () => {
  const example = docsByFile.get('examples/agent-sidecar.yaml') as Doc[]
  const workload = find('Deployment', 'report-writer', example)
  const sidecar = workload['spec']['template']['spec']['initContainers'][0] as Doc
  const app = workload['spec']['template']['spec']['containers'][0] as Doc
  const command = sidecar['command'] as string[]
  const flag = (name: string) => command[command.indexOf(name) + 1]

  it('when its command is given to `sts-vend agent`, then the flags parse and only the absent token file stops it (exit 1)', async () => {
    expect(command.slice(0, 3)).toEqual(['node', 'bin/sts-vend.js', 'agent'])
    let err = ''
    const io: CliIo = { out: () => {}, err: (text) => (err += text), env: {} }
    const code = await createAgentCommand({ logger: createCapturingLogger().logger }).run(
      command.slice(3),
      io,
    )
    expect(err).toContain(`cannot read --token-file ${flag('--token-file')}`)
    expect(code).toBe(1)
  })

  it("when the app reads ALIBABA_CLOUD_CREDENTIALS_URI, then it is the agent's port on loopback", () => {
    const uri = app['env'].find((e: Doc) => e['name'] === 'ALIBABA_CLOUD_CREDENTIALS_URI')['value']
    expect(uri).toBe(`http://127.0.0.1:${flag('--port')}/credentials`)
    expect(sdkEnvNames()).toContain('ALIBABA_CLOUD_CREDENTIALS_URI')
  })

  it('when the token reaches sts-vend, then its audience and the rule it asks for exist in the production config', () => {
    const volume = workload['spec']['template']['spec']['volumes'][0] as Doc
    const source = volume['projected']['sources'][0]['serviceAccountToken'] as Doc
    expect(flag('--token-file')).toBe(`${sidecar['volumeMounts'][0]['mountPath']}/${source['path']}`)
    const rule = config.rules.find((r) => r.id === flag('--rule'))
    expect(rule).toBeDefined()
    const issuer = config.issuers.find((i) => i.id === rule?.issuer)
    expect(issuer?.type === 'oidc' ? issuer.audiences : undefined).toContain(source['audience'])
    const namespace = workload['metadata']['namespace']
    const account = workload['spec']['template']['spec']['serviceAccountName']
    expect(rule?.when['sub']).toEqual({ equals: `system:serviceaccount:${namespace}:${account}` })
  })
})
