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

# --- build: full install, compile TypeScript, then drop dev dependencies ---
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none is needed at run time (package.json "allowScripts" lists none), and esbuild's
# binary comes from its platform package.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: compiled code and production dependencies only, owned by root, run as node ---
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production \
    STS_VEND_CONFIG=/etc/sts-vend/config.yaml
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Read at run time from the package root (src/routes/openapi.ts resolves ../../openapi.yaml from dist/routes/).
COPY openapi.yaml ./
# The web console's static files (src/routes/console.ts resolves ../../web/ from dist/routes/); no build step.
COPY web ./web
USER node
EXPOSE 8080
# Slim images have no curl: node's fetch does it. STS_VEND_HEALTHCHECK_URL overrides the URL when the
# config uses another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.STS_VEND_HEALTHCHECK_URL || 'http://127.0.0.1:8080/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
