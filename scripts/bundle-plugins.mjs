// esbuild plugins of scripts/build.mjs: what the service does not use at start stays out of the start.
// README "Performance" → "Cold start and idle memory" has what each one buys. Tests:
// test/deploy/bundle-plugins.test.ts.
import { readFileSync } from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import { sep } from 'node:path'

/**
 * An ES module import of a Node built-in makes Node build the built-in's ES module facade, which reads
 * every export: node:http's lazy getters (WebSocket, CloseEvent, MessageEvent) then load Node's own
 * undici at every start. require() hands over module.exports without reading them, so static imports of
 * built-ins are bundled as a module that requires the built-in (esbuild reads each named import off it
 * where it is used). Dynamic import() is left alone.
 */
export const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) =>
      args.kind === 'import-statement' && isBuiltin(args.path)
        ? { path: args.path, namespace: 'node-builtin' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: 'js',
    }))
  },
}

/** `exports.NAME = EXPR;` as a getter that evaluates EXPR (a require) on first read. */
const lazyExport = (name, expr) => [
  `exports.${name} = ${expr};`,
  () => `Object.defineProperty(exports, '${name}', { enumerable: true, get: () => ${expr} });`,
]

/** `__exportStar(require(SPECIFIER), exports)` as one getter per name the module exports. */
function lazyExportStar(file, specifier) {
  const names = []
  for (const name in createRequire(file)(specifier)) if (name !== 'default') names.push(name)
  const from = JSON.stringify(specifier)
  return names
    .map((name) => {
      const key = JSON.stringify(name)
      // As __exportStar: a name an earlier module already exported is not replaced.
      return `Object.prototype.hasOwnProperty.call(exports, ${key}) || Object.defineProperty(exports, ${key}, { enumerable: true, get: function () { return require(${from})[${key}]; } });`
    })
    .join('\n')
}

/**
 * Top-level requires of parts the service never uses, per file under node_modules, each replaced by a
 * getter that requires the same module on first read (so a part that is used after all still loads).
 * - prom-client's index loads every part of the library: the Pushgateway (node:https, node:zlib), the
 *   cluster aggregator, Summary (tdigest). sts-vend uses the registry, Counter, Gauge, Histogram and the
 *   default metrics; its CPU metric loads the OpenTelemetry API, used only for exemplars.
 * - The Alibaba SDK's runtime (@darabonba/typescript) loads its WebSocket client (ws and the HTTP, HTTPS
 *   and SOCKS proxy agents), its Date type (moment) and all of lodash for one merge(); the STS calls
 *   sts-vend makes (GetCallerIdentity, AssumeRole) use none of them. The WebSocket module's export
 *   names are read from the module itself, so the index exports exactly what `__exportStar` copied.
 * Each line must be found exactly once, or the build fails: a new version of a package is then looked
 * at again, never half rewritten.
 */
export const LAZY_REQUIRES = {
  'prom-client/index.js': [
    lazyExport('Summary', "require('./lib/summary')"),
    lazyExport('Pushgateway', "require('./lib/pushgateway')"),
    lazyExport('aggregators', "require('./lib/metricAggregators').aggregators"),
    lazyExport('AggregatorRegistry', "require('./lib/cluster')"),
  ],
  // For exemplars only, which sts-vend does not enable: the OpenTelemetry API waits for the first one.
  'prom-client/lib/metrics/processCpuTotal.js': [
    [
      "const OtelApi = require('@opentelemetry/api');",
      () =>
        "const OtelApi = { get trace() { return require('@opentelemetry/api').trace; }, get context() { return require('@opentelemetry/api').context; } };",
    ],
  ],
  '@darabonba/typescript/dist/index.js': [
    ['__exportStar(require("./websocket"), exports);', (file) => lazyExportStar(file, './websocket')],
    ['var date_1 = require("./date");', () => ''],
    ['__importDefault(date_1).default', () => '__importDefault(require("./date")).default'],
  ],
  '@darabonba/typescript/dist/func.js': [
    [
      'var _ = __importStar(require("lodash"));',
      () => 'var _ = { get merge() { return require("lodash").merge; } };',
    ],
  ],
  '@darabonba/typescript/dist/file.js': [
    [
      'var date_1 = __importDefault(require("./date"));',
      () => 'var date_1 = { get default() { return __importDefault(require("./date")).default; } };',
    ],
  ],
}

/** The key of LAZY_REQUIRES for a file path, or undefined. */
export function lazyRequiresKey(file) {
  return Object.keys(LAZY_REQUIRES).find((key) =>
    file.endsWith(`${sep}node_modules${sep}${key.replaceAll('/', sep)}`),
  )
}

/** The file's source with its lazy requires (LAZY_REQUIRES) in place; throws when a line is not found once. */
export function withLazyRequires(file, contents) {
  const key = lazyRequiresKey(file)
  if (key === undefined) return contents
  let out = contents
  for (const [line, replacement] of LAZY_REQUIRES[key]) {
    if (out.split(line).length !== 2) throw new Error(`${key}: expected exactly once: ${line}`)
    out = out.replace(line, () => replacement(file))
  }
  return out
}

export const lazyRequires = {
  name: 'lazy-requires',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/](prom-client|@darabonba[\\/]typescript)[\\/]/ }, (args) =>
      lazyRequiresKey(args.path) === undefined
        ? undefined
        : { contents: withLazyRequires(args.path, readFileSync(args.path, 'utf8')), loader: 'js' },
    )
  },
}
