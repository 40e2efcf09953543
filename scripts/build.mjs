// `npm run build`: src/ → dist/ as an esbuild bundle, what the container runs (`node dist/server.js`).
// Entry points dist/server.js and dist/cli.js share their code through chunks; a dynamic import() (the
// Redis client, loaded only for `limits.store: redis` and fleet mode) becomes a chunk of its own, loaded
// when used. The dependencies, the Alibaba SDK included, are in the bundle: one file to read and compile
// instead of about 700 (README "Performance" → "Cold start and idle memory" says what each step bought).
// Whitespace and syntax are minified (less to parse and hold in memory), identifiers are not: stack
// traces keep their function names. Plugins (scripts/bundle-plugins.mjs) keep what the service does not
// use at start out of the start: Node's undici behind node:http's ES module facade, the parts of
// prom-client and of the Alibaba SDK's runtime it never calls. Type checking is `npm run typecheck`.
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { builtinsThroughRequire, lazyRequires } from './bundle-plugins.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
// `--outdir DIR` builds elsewhere (bench/lib/build.ts and test/deploy lay the image out in a temp dir).
const at = process.argv.indexOf('--outdir')
const outdir = resolve(root, at === -1 ? 'dist' : (process.argv[at + 1] ?? 'dist'))

rmSync(outdir, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: ['src/server.ts', 'src/cli.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  // The bundled CommonJS packages call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [builtinsThroughRequire, lazyRequires],
  logLevel: 'warning',
})
