// A throwaway self-signed certificate for the emulator's --tls mode, made with the openssl command.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A certificate for 127.0.0.1, ::1, localhost and the extra names; `certPath` is what NODE_EXTRA_CA_CERTS should name. */
export interface SelfSignedCertificate {
  key: string
  cert: string
  certPath: string
  /** Deletes the key and certificate files. */
  remove(): Promise<void>
}

/**
 * Generates a P-256 key and a self-signed certificate valid for two days, written to a fresh temporary
 * directory. node:crypto cannot issue X.509 certificates, hence the openssl child process.
 * Throws an Error with code `ERR_OPENSSL_MISSING` when the openssl command is not installed.
 */
export async function createSelfSignedCertificate(
  dnsNames: readonly string[] = [],
): Promise<SelfSignedCertificate> {
  const names = ['localhost', ...dnsNames.filter((n) => /^[a-z0-9.-]+$/.test(n))]
  const dir = await mkdtemp(join(tmpdir(), 'sts-vend-emulator-tls-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=sts-vend emulator',
        '-addext',
        `subjectAltName=IP:127.0.0.1,IP:::1,${names.map((n) => `DNS:${n}`).join(',')}`,
      ],
      { timeout: 30_000 },
    )
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')])
    return { key, cert, certPath, remove }
  } catch (err) {
    await remove()
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw Object.assign(new Error('--tls needs the openssl command, which is not installed'), {
        code: 'ERR_OPENSSL_MISSING',
      })
    }
    throw err
  }
}
