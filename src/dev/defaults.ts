// The loopback ports of `sts-vend dev`: chosen next to each other and away from common services (8080, 3000, 5000).

/** The sts-vend service in dev mode. */
export const DEV_SERVICE_DEFAULT_PORT = 8787

/** The dev OIDC issuer (discovery, JWKS, POST /dev/token). */
export const DEV_ISSUER_DEFAULT_PORT = 8788

/** The STS emulator. */
export const DEV_EMULATOR_DEFAULT_PORT = 8789

/** The OSS emulator (https with a dev certificate, so that the dev rules' acs:SecureTransport holds). */
export const DEV_OSS_DEFAULT_PORT = 8786

/** The audience the dev issuer puts in its tokens, and the dev config accepts. */
export const DEV_AUDIENCE = 'sts-vend'

/** Where `sts-vend token` finds the dev issuer unless told otherwise. */
export const DEV_ISSUER_DEFAULT_URL = `http://127.0.0.1:${DEV_ISSUER_DEFAULT_PORT}`
