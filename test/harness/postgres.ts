/**
 * A real PostgreSQL for tests: Debian's postgresql (15; binaries in /usr/lib/postgresql/N/bin), a fresh cluster on
 * a temporary data directory, listening on 127.0.0.1 only (no Unix socket in /run), stopped and deleted by stop().
 *
 *   const pg = await startPostgres()
 *   const url = await pg.createDatabase()      // postgres://kg:PASSWORD@127.0.0.1:PORT/kg_N: a new empty database
 *   await pg.stop()
 *
 * PostgreSQL refuses to run as root: when the tests run as root (CI), the cluster is created and run as the
 * `postgres` user Debian's package adds, with a data directory that user owns. Requires: apt-get install postgresql.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

export interface PostgresServer {
  readonly port: number
  /** postgres://kg:PASSWORD@127.0.0.1:PORT/postgres: the superuser's URL (admin work only). */
  readonly adminUrl: string
  readonly password: string
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>
  stop(): Promise<void>
}

export async function postgresBin(): Promise<string> {
  const root = '/usr/lib/postgresql'
  const versions = (await readdir(root).catch(() => [] as string[])).sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('PostgreSQL is not installed: apt-get install postgresql')
  return join(root, versions[0]!, 'bin')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])])
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await postgresBin()
  const asRoot = process.getuid?.() === 0
  const dir = await mkdtemp(join(tmpdir(), 'kg-postgres-'))
  const data = join(dir, 'data')
  const password = randomBytes(12).toString('hex')
  const pwfile = join(dir, 'pwfile')
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
  // As root, everything runs as `postgres`, which must own the directory (and read the password file).
  const owner = asRoot ? await userIds('postgres') : undefined
  if (owner) {
    await chown(dir, owner.uid, owner.gid)
    await chown(pwfile, owner.uid, owner.gid)
  }
  await chmod(dir, 0o700)
  const as = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]

  const [initCmd, initArgs] = as(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'kg',
    '--pwfile',
    pwfile,
    '--auth',
    'scram-sha-256',
    '-E',
    'UTF8',
    '--locale',
    'C',
    '--no-sync',
  ])
  await run(initCmd, initArgs, { cwd: dir })
  const port = await freePort()
  const [pgCmd, pgArgs] = as(join(bin, 'postgres'), [
    '-D',
    data,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'fsync=off',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=32MB',
  ])
  const child: ChildProcess = spawn(pgCmd, pgArgs, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const adminUrl = `postgres://kg:${password}@127.0.0.1:${port}/postgres`
  const deadline = Date.now() + 30_000
  for (;;) {
    const client = new pg.Client({ connectionString: adminUrl })
    try {
      await client.connect()
      await client.end()
      break
    } catch (error) {
      await client.end().catch(() => {})
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        await rm(dir, { recursive: true, force: true })
        throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  let databases = 0
  return {
    port,
    adminUrl,
    password,
    async createDatabase() {
      const name = `kg_${process.pid}_${++databases}`
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
      return `postgres://kg:${password}@127.0.0.1:${port}/${name}`
    },
    async stop() {
      // SIGINT: fast shutdown (running transactions are cut; nothing to keep in a test cluster).
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
