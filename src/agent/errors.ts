// What the agent can refuse at start (AgentOptionError) and what can go wrong on a refresh (RefreshError).

/** An agent option that cannot work (a non-loopback host, a bad server URL…): the CLI exits 2. */
export class AgentOptionError extends Error {
  readonly code = 'ERR_AGENT_OPTION'
  constructor(message: string) {
    super(message)
    this.name = 'AgentOptionError'
  }
}

export type RefreshFailure =
  /** The token file is missing, unreadable or empty. */
  | 'token_file_unreadable'
  /** `--alibaba-identity`: no Alibaba credential to sign the login with (issue 21). */
  | 'cannot_sign'
  /** sts-vend did not answer (connection refused, timeout, reset). */
  | 'upstream_unreachable'
  /** sts-vend answered an error status (401, 403, 429, 5xx). */
  | 'upstream_refused'
  /** sts-vend answered 200 with a body that is not the `json` format of design §6.1. */
  | 'upstream_invalid'

/**
 * A refresh that failed with no valid cached credentials to fall back on. `message` never holds the
 * token, a secret or a response body; `upstreamError` is sts-vend's error code when it sent one.
 */
export class RefreshError extends Error {
  constructor(
    readonly reason: RefreshFailure,
    message: string,
    readonly upstreamStatus?: number,
    readonly upstreamError?: string,
  ) {
    super(message)
    this.name = 'RefreshError'
  }
}
