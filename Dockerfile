# sts-vend container image.
#
#   docker build -t sts-vend .
#   docker run --rm -p 8080:8080 -v "$PWD/config.yaml:/etc/sts-vend/config.yaml:ro" sts-vend
#
# The config is read from /etc/sts-vend/config.yaml (STS_VEND_CONFIG). It must set
#   server: { host: 0.0.0.0, port: 8080 }
# because the default host, 127.0.0.1, is unreachable from outside the container. The service's own
# Alibaba identity comes from the standard credential chain (RRSA on ACK, an ECS RAM role, ...): the
# image holds no AccessKey. The same image runs the CLI, e.g. the sidecar:
#   docker run --rm sts-vend node bin/sts-vend.js agent --server https://sts-vend.example.com --token-file /var/run/token

# --- build: full install, bundle src/ with esbuild (scripts/build.mjs), then drop dev dependencies ---
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none is needed at run time (package.json "allowScripts" lists none), and esbuild's
# binary comes from its platform package.
RUN npm ci --ignore-scripts --no-audit --no-fund
# esbuild reads tsconfig.json's compiler options.
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/bundle-plugins.mjs ./scripts/
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && mkdir /app/.compile-cache \
 && chown node:node /app/.compile-cache
# Warm Node's compile cache (NODE_COMPILE_CACHE, set in the runtime stage): loading both entry points
# compiles the bundle and writes V8's code cache, keyed by file path and content, at the same /app paths
# the runtime stage uses. Node names the cache directory after the user id, so it is written as `node`,
# the user that runs the image, and made readable: the runtime stage copies it in owned by root, like
# the rest of /app (a miss at run time is compiled as without a cache, never written).
USER node
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN node --input-type=module -e "await import('./dist/server.js'); await import('./dist/cli.js')" \
 && chmod -R a+rX /app/.compile-cache

# --- runtime: the bundle and production dependencies only, owned by root, run as node ---
FROM node:24.21.0-bookworm-slim AS runtime
# NODE_COMPILE_CACHE: V8's code cache for dist/, filled below at build time, so that a start reads
# compiled code instead of compiling the bundle again (README "Performance").
ENV NODE_ENV=production \
    STS_VEND_CONFIG=/etc/sts-vend/config.yaml \
    NODE_COMPILE_CACHE=/app/.compile-cache
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/.compile-cache ./.compile-cache
COPY bin ./bin
# Read at run time from the package root (src/package-root.ts: the nearest directory with package.json).
COPY openapi.yaml ./
# The web console's static files, from web/ at the package root too; no build step.
COPY web ./web
USER node
EXPOSE 8080
# Slim images have no curl: node's fetch does it. STS_VEND_HEALTHCHECK_URL overrides the URL when the
# config uses another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.STS_VEND_HEALTHCHECK_URL || 'http://127.0.0.1:8080/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# --max-old-space-size-percentage=50: V8's old space is half the memory Node sees as available, which
# is the cgroup's limit in a container (process.constrainedMemory(); the host's total memory without
# one). Half leaves room for what is not old space (young generation, code, buffers, ~60 MiB at idle),
# so under the Deployment's 256 Mi limit V8 collects at 128 MiB instead of the kernel killing the pod.
# --min-semi-space-size=16: V8's young generation starts at 16 MiB per semi-space instead of 1 MiB and
# growing; the start allocates tens of MiB and skips the scavenges on the way (about 9 ms of CPU, 2.7 MiB
# more idle RSS).
# --max-semi-space-size=16: and stays there. V8 sizes the young generation from the memory it sees: under
# a 256 MiB limit its ceiling is 1 MiB per semi-space (the minimum above does not raise it), and the
# service then scavenged so often that it answered half as many requests (4,300 against 8,400 a second
# for 10,000 warm callers, peak RSS 193 against 214-221 MiB). Without a limit V8 would allow 32 MiB.
# --disable-warning=DEP0169: the bundled Alibaba SDK calls url.parse() (Node is quiet about that only
# for code under node_modules).
CMD ["node", "--max-old-space-size-percentage=50", "--min-semi-space-size=16", "--max-semi-space-size=16", "--disable-warning=DEP0169", "dist/server.js"]
