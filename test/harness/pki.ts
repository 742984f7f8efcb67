/**
 * Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost signed by it, and a
 * self-signed RSA certificate for signing registry tokens. Generated per harness so no key ever lives in the repo.
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestPki {
  caFile: string
  caPem: string
  certFile: string
  keyFile: string
  certPem: string
  keyPem: string
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir })
}

/** CA + server certificate (SAN 127.0.0.1, ::1, localhost) in `dir`. EC keys: generating them is instant. */
export async function makeServerPki(dir: string): Promise<TestPki> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=konflux-gitops test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  await openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ])
  await writeFile(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  )
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ])
  return {
    caFile: join(dir, 'ca.pem'),
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    certPem: await readFile(join(dir, 'server.pem'), 'utf8'),
    keyPem: await readFile(join(dir, 'server.key'), 'utf8'),
  }
}

export interface TokenSigner {
  certFile: string
  keyPem: string
  /** base64 DER of the certificate, for the JWT `x5c` header. */
  certDerBase64: string
}

/** A self-signed RSA certificate the registry trusts (`rootcertbundle`) for RS256 tokens. */
export async function makeTokenSigner(dir: string): Promise<TokenSigner> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'token.key',
    '-out',
    'token.pem',
    '-days',
    '2',
    '-subj',
    '/CN=konflux-gitops test token issuer',
  ])
  const pem = await readFile(join(dir, 'token.pem'), 'utf8')
  const der = pem
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '')
    .trim()
  return {
    certFile: join(dir, 'token.pem'),
    keyPem: await readFile(join(dir, 'token.key'), 'utf8'),
    certDerBase64: der,
  }
}
