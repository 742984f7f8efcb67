/**
 * A thin in-memory fake of the GitHub REST endpoints konflux-gitops uses (GitHub itself cannot run here).
 * Every request is matched to an operation of `@octokit/openapi`'s description of api.github.com, its JSON body is
 * checked against that operation's request schema, and every 2xx response is built from the response schema (a
 * minimal valid instance, overlaid with the fake's state) and checked against it again. Mismatches are answered
 * like GitHub would (422) and recorded in `violations`, which tests assert empty.
 * Hand-written because no maintained GitHub fake exists as a library; it stays small by implementing only the
 * operations listed in HANDLERS. Git object ids are SHA-1 of the content but trees are stored flat (path -> blob),
 * which is all the API surface needs.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { ROOT } from '../helpers/cli.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }
type Schema = { [key: string]: unknown }

export interface FakeUser {
  login: string
  token: string
  /** Classic token scopes; writes need "repo". */
  scopes: string[]
}

export interface FakeCommit {
  sha: string
  tree: Record<string, string>
  parents: string[]
  message: string
}

export interface FakePull {
  number: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  head: string
  base: string
  user: string
  merged: boolean
  labels: string[]
}

export interface FakeIssue {
  number: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  labels: string[]
  user: string
}

export interface FakeRepo {
  id: number
  owner: string
  name: string
  private: boolean
  description: string | null
  defaultBranch: string
  blobs: Map<string, string>
  commits: Map<string, FakeCommit>
  /** `refs/heads/main` -> commit sha */
  refs: Map<string, string>
  pulls: FakePull[]
  issues: FakeIssue[]
  nextNumber: number
}

export interface RecordedRequest {
  method: string
  path: string
  operationId: string | null
  status: number
  body: unknown
}

export interface FailureRule {
  method?: string
  /** Matched against the path without query string. */
  path: string | RegExp
  status: number
  message?: string
  /** How many matching requests fail; default 1. */
  times?: number
}

export interface FakeState {
  users: Map<string, FakeUser>
  /** org login -> member logins */
  orgs: Map<string, Set<string>>
  repos: Map<string, FakeRepo>
  requests: RecordedRequest[]
  /** Requests or responses that do not match the OpenAPI description: a fake or client bug. */
  violations: string[]
  failures: FailureRule[]
  dispatches: Array<{ repo: string; eventType: string; payload: unknown }>
}

export interface GitHubFake {
  url: string
  /** The default user's token (login "octocat", scope "repo", member of org "acme"). */
  token: string
  state: FakeState
  addUser(login: string, options?: { scopes?: string[]; orgs?: string[] }): FakeUser
  addOrg(login: string, members?: string[]): void
  /** A repository with one commit holding `files` on its default branch. */
  addRepo(
    fullName: string,
    options?: { files?: Record<string, string>; private?: boolean; defaultBranch?: string },
  ): FakeRepo
  /** Files at a branch (or commit sha), or undefined when the repo or ref does not exist. */
  files(fullName: string, ref?: string): Record<string, string> | undefined
  failNext(rule: FailureRule): void
  /** Writes (non-GET requests) seen so far. */
  writes(): RecordedRequest[]
  stop(): Promise<void>
}

interface Operation {
  method: string
  template: string
  operationId: string
  regex: RegExp
  params: string[]
  literalLength: number
  spec: Schema
}

interface LoadedSpec {
  operations: Operation[]
  ajv: Ajv
  document: Schema
}

const SPEC_FILE = join(ROOT, 'node_modules', '@octokit', 'openapi', 'generated', 'api.github.com.json')
let loaded: LoadedSpec | undefined

/**
 * Two adjustments so ajv can check GitHub's own shapes: its description uses `oneOf` where branches overlap (a private
 * user is also a valid public user), so a real response would fail `oneOf` (`anyOf` keeps the check meaningful); and a
 * few schemas say `nullable` without `type`, which ajv rejects (there `nullable` is dropped: null is then refused).
 */
function relaxOneOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxOneOf)
  if (node === null || typeof node !== 'object') return node
  const out: Schema = {}
  const typed = 'type' in node
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' && !typed) continue
    out[key === 'oneOf' ? 'anyOf' : key] = relaxOneOf(value)
  }
  return out
}

function loadSpec(): LoadedSpec {
  if (loaded) return loaded
  const document = relaxOneOf(JSON.parse(readFileSync(SPEC_FILE, 'utf8'))) as Schema
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false })
  ajv.addSchema({ $id: 'gh', components: document.components, paths: document.paths })
  const components = document.components as { parameters: Record<string, Schema> }
  const operations: Operation[] = []
  for (const [template, methods] of Object.entries(document.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, spec] of Object.entries(methods)) {
      if (typeof spec !== 'object' || !spec.operationId) continue
      const multiSegment = new Set<string>()
      for (const parameter of (spec.parameters as Schema[] | undefined) ?? []) {
        const resolved =
          typeof parameter.$ref === 'string' ? components.parameters[parameter.$ref.split('/').pop() ?? ''] : parameter
        if (resolved?.in === 'path' && resolved['x-multi-segment']) multiSegment.add(resolved.name as string)
      }
      const params: string[] = []
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        params.push(name)
        return multiSegment.has(name) ? '(.+)' : '([^/]+)'
      })
      operations.push({
        method: method.toUpperCase(),
        template,
        operationId: spec.operationId as string,
        regex: new RegExp(`^${pattern}$`),
        params,
        literalLength: template.replace(/\{\w+\}/g, '').length,
        spec,
      })
    }
  }
  operations.sort((a, b) => b.literalLength - a.literalLength)
  loaded = { operations, ajv, document }
  return loaded
}

const validators = new Map<string, ValidateFunction>()

function validatorFor(spec: LoadedSpec, pointer: string): ValidateFunction {
  let validate = validators.get(pointer)
  if (!validate) {
    validate = spec.ajv.compile({ $ref: `gh#${pointer}` })
    validators.set(pointer, validate)
  }
  return validate
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

function resolveRef(spec: LoadedSpec, node: Schema): Schema {
  let current = node
  while (typeof current.$ref === 'string') {
    let target: unknown = spec.document
    for (const part of current.$ref.replace(/^#\//, '').split('/')) {
      target = (target as Schema)[part.replaceAll('~1', '/').replaceAll('~0', '~')]
    }
    current = target as Schema
  }
  return current
}

/**
 * An instance of `node` shaped by the schema: every required property present (from `overlay` when it has it, else a
 * minimal value: null when nullable, the first enum value, an empty string/array, zero, false), `overlay`'s other
 * properties kept, nested objects and array items built the same way.
 */
function build(spec: LoadedSpec, node: Schema, overlay: Json | undefined, depth = 0): Json {
  const schema = resolveRef(spec, node)
  if (depth > 20) return overlay ?? null
  if (Array.isArray(schema.allOf)) {
    const parts = (schema.allOf as Schema[]).map((part) => build(spec, part, overlay, depth + 1))
    return parts.reduce<Json>((acc, part) => mergeObjects(acc, part), {})
  }
  const choice = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (Array.isArray(choice) && choice.length > 0) {
    const wantsObject = overlay !== null && typeof overlay === 'object' && !Array.isArray(overlay)
    const branch =
      choice.find((option) => {
        const resolved = resolveRef(spec, option)
        const type = resolved.type ?? (resolved.properties || resolved.allOf ? 'object' : undefined)
        if (overlay === undefined) return true
        if (overlay === null) return resolved.nullable === true || type === 'null'
        if (wantsObject) return type === 'object'
        if (Array.isArray(overlay)) return type === 'array'
        return type === typeof overlay || (type === 'integer' && typeof overlay === 'number')
      }) ?? choice[0]
    return build(spec, branch as Schema, overlay, depth + 1)
  }
  if (overlay === null) return null
  if (overlay === undefined && schema.nullable === true) return null
  if (overlay === undefined && Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as Json
  const type = schema.type ?? (schema.properties ? 'object' : undefined)
  if (type === 'object') {
    const given = overlay !== undefined && typeof overlay === 'object' && !Array.isArray(overlay) ? overlay : {}
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    const out: JsonObject = {}
    const keys = new Set([...((schema.required as string[] | undefined) ?? []), ...Object.keys(given)])
    for (const key of keys) {
      const property = properties[key]
      out[key] = property ? build(spec, property, given[key], depth + 1) : (given[key] ?? null)
    }
    return out
  }
  if (type === 'array') {
    const items = (schema.items ?? {}) as Schema
    return Array.isArray(overlay) ? overlay.map((item) => build(spec, items, item, depth + 1)) : []
  }
  if (overlay !== undefined) return overlay
  switch (type) {
    case 'string':
      if (schema.format === 'date-time') return '2026-01-01T00:00:00Z'
      if (schema.format === 'uri') return 'https://github.example.invalid/'
      if (schema.format === 'email') return 'nobody@example.invalid'
      return ''
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0
    case 'boolean':
      return false
    default:
      return null
  }
}

function mergeObjects(base: Json, overlay: Json): Json {
  if (
    base !== null &&
    overlay !== null &&
    typeof base === 'object' &&
    typeof overlay === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(overlay)
  ) {
    const out: JsonObject = { ...base }
    for (const [key, value] of Object.entries(overlay)) out[key] = mergeObjects(base[key] ?? null, value)
    return out
  }
  return overlay
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function gitSha(kind: string, content: string): string {
  const bytes = Buffer.from(content, 'utf8')
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(`${kind} ${bytes.length}\0`), bytes]))
    .digest('hex')
}

interface Context {
  op: Operation
  params: Record<string, string>
  query: URLSearchParams
  body: JsonObject
  user: FakeUser
  base: string
}

type Handler = (ctx: Context) => { status: number; body?: Json; list?: Json[] }

/** `cloneUrlBase`: where repositories' `clone_url` points, e.g. a git http-backend server from git-http.ts. */
export async function startGitHubFake(options: { cloneUrlBase?: string } = {}): Promise<GitHubFake> {
  const spec = loadSpec()
  const state: FakeState = {
    users: new Map(),
    orgs: new Map(),
    repos: new Map(),
    requests: [],
    violations: [],
    failures: [],
    dispatches: [],
  }
  let nextId = 1000

  const addUser: GitHubFake['addUser'] = (login, options = {}) => {
    const user = { login, token: `ghp_fake_${login}_${nextId++}`, scopes: options.scopes ?? ['repo'] }
    state.users.set(user.token, user)
    for (const org of options.orgs ?? []) addOrg(org, [login])
    return user
  }
  const addOrg = (login: string, members: string[] = []): void => {
    const set = state.orgs.get(login) ?? new Set<string>()
    for (const member of members) set.add(member)
    state.orgs.set(login, set)
  }
  const repoKey = (owner: string, name: string) => `${owner}/${name}`.toLowerCase()

  const commitFiles = (repo: FakeRepo, parents: string[], tree: Record<string, string>, message: string): string => {
    const sha = gitSha('commit', JSON.stringify({ tree, parents, message, n: nextId++ }))
    repo.commits.set(sha, { sha, tree, parents, message })
    return sha
  }
  const treeSha = (tree: Record<string, string>) => gitSha('tree', JSON.stringify(Object.entries(tree).sort()))
  const trees = new Map<string, Record<string, string>>()
  const storeTree = (tree: Record<string, string>): string => {
    const sha = treeSha(tree)
    trees.set(sha, tree)
    return sha
  }

  const createRepo = (
    owner: string,
    name: string,
    options: {
      private?: boolean
      description?: string | null
      autoInit?: boolean
      defaultBranch?: string
      files?: Record<string, string>
    },
  ): FakeRepo => {
    const repo: FakeRepo = {
      id: nextId++,
      owner,
      name,
      private: options.private ?? false,
      description: options.description ?? null,
      defaultBranch: options.defaultBranch ?? 'main',
      blobs: new Map(),
      commits: new Map(),
      refs: new Map(),
      pulls: [],
      issues: [],
      nextNumber: 1,
    }
    const files = options.files ?? (options.autoInit ? { 'README.md': `# ${name}\n` } : undefined)
    if (files) {
      const tree: Record<string, string> = {}
      for (const [path, content] of Object.entries(files)) {
        const sha = gitSha('blob', content)
        repo.blobs.set(sha, content)
        tree[path] = sha
      }
      storeTree(tree)
      repo.refs.set(`refs/heads/${repo.defaultBranch}`, commitFiles(repo, [], tree, 'Initial commit'))
    }
    state.repos.set(repoKey(owner, name), repo)
    return repo
  }

  const canSee = (user: FakeUser, repo: FakeRepo) =>
    !repo.private || repo.owner === user.login || (state.orgs.get(repo.owner)?.has(user.login) ?? false)

  const repoOf = (ctx: Context): FakeRepo => {
    const repo = state.repos.get(repoKey(ctx.params.owner ?? '', ctx.params.repo ?? ''))
    if (!repo || !canSee(ctx.user, repo)) throw new HttpError(404, 'Not Found')
    return repo
  }
  const commitAt = (repo: FakeRepo, ref: string | null | undefined): FakeCommit => {
    const name = ref || repo.defaultBranch
    const sha =
      repo.refs.get(`refs/heads/${name}`) ?? repo.refs.get(name) ?? (repo.commits.has(name) ? name : undefined)
    const commit = sha ? repo.commits.get(sha) : undefined
    if (!commit) throw new HttpError(404, `No commit found for the ref ${name}`)
    return commit
  }

  const apiUrl = () => url
  const repoJson = (repo: FakeRepo): Json => {
    const full = `${repo.owner}/${repo.name}`
    const ownerIsOrg = state.orgs.has(repo.owner)
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: full,
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      description: repo.description,
      default_branch: repo.defaultBranch,
      html_url: `${apiUrl()}/html/${full}`,
      url: `${apiUrl()}/repos/${full}`,
      clone_url: `${options.cloneUrlBase ?? `${apiUrl()}/git`}/${full}.git`,
      owner: { login: repo.owner, id: 1, type: ownerIsOrg ? 'Organization' : 'User' },
    }
  }
  const userJson = (login: string): Json => ({ login, id: 1, node_id: `U_${login}`, type: 'User' })
  const refJson = (repo: FakeRepo, ref: string, sha: string): Json => ({
    ref,
    node_id: `REF_${sha}`,
    url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/${ref}`,
    object: { sha, type: 'commit', url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/commits/${sha}` },
  })
  const commitJson = (repo: FakeRepo, commit: FakeCommit): Json => ({
    sha: commit.sha,
    node_id: `C_${commit.sha}`,
    message: commit.message,
    url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/commits/${commit.sha}`,
    html_url: `${apiUrl()}/html/${repo.owner}/${repo.name}/commit/${commit.sha}`,
    tree: {
      sha: storeTree(commit.tree),
      url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/trees/${treeSha(commit.tree)}`,
    },
    parents: commit.parents.map((sha) => ({ sha, url: '', html_url: '' })),
  })
  const pullJson = (repo: FakeRepo, pull: FakePull): Json => {
    const full = `${repo.owner}/${repo.name}`
    const headSha = repo.refs.get(`refs/heads/${pull.head}`) ?? ''
    const baseSha = repo.refs.get(`refs/heads/${pull.base}`) ?? ''
    return {
      number: pull.number,
      id: repo.id * 1000 + pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      merged: pull.merged,
      html_url: `${apiUrl()}/html/${full}/pull/${pull.number}`,
      url: `${apiUrl()}/repos/${full}/pulls/${pull.number}`,
      user: userJson(pull.user),
      labels: pull.labels.map((name, index) => ({ id: index + 1, name, color: 'ededed', default: false })),
      head: {
        ref: pull.head,
        sha: headSha,
        label: `${repo.owner}:${pull.head}`,
        repo: repoJson(repo),
        user: userJson(repo.owner),
      },
      base: {
        ref: pull.base,
        sha: baseSha,
        label: `${repo.owner}:${pull.base}`,
        repo: repoJson(repo),
        user: userJson(repo.owner),
      },
    }
  }
  const issueJson = (repo: FakeRepo, issue: FakeIssue | FakePull): Json => {
    const full = `${repo.owner}/${repo.name}`
    const isPull = 'head' in issue
    return {
      number: issue.number,
      id: repo.id * 1000 + issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      html_url: `${apiUrl()}/html/${full}/issues/${issue.number}`,
      url: `${apiUrl()}/repos/${full}/issues/${issue.number}`,
      repository_url: `${apiUrl()}/repos/${full}`,
      user: userJson(issue.user),
      labels: issue.labels.map((name, index) => ({ id: index + 1, name, color: 'ededed', default: false })),
      ...(isPull
        ? {
            pull_request: {
              url: `${apiUrl()}/repos/${full}/pulls/${issue.number}`,
              html_url: null,
              diff_url: null,
              patch_url: null,
            },
          }
        : {}),
    }
  }
  const requireWrite = (ctx: Context) => {
    if (!ctx.user.scopes.includes('repo')) throw new HttpError(403, 'Resource not accessible by personal access token')
  }
  const requireRepoWrite = (ctx: Context, repo: FakeRepo) => {
    requireWrite(ctx)
    const member = repo.owner === ctx.user.login || (state.orgs.get(repo.owner)?.has(ctx.user.login) ?? false)
    if (!member) throw new HttpError(403, 'Resource not accessible by personal access token')
  }

  const createRepoHandler = (owner: string, ctx: Context) => {
    if (state.repos.has(repoKey(owner, String(ctx.body.name)))) {
      throw new HttpError(422, 'Repository creation failed: name already exists on this account')
    }
    const repo = createRepo(owner, String(ctx.body.name), {
      private: ctx.body.private === true || ctx.body.visibility === 'private',
      description: typeof ctx.body.description === 'string' ? ctx.body.description : null,
      autoInit: ctx.body.auto_init === true,
    })
    return { status: 201, body: repoJson(repo) }
  }

  const HANDLERS: Record<string, Handler> = {
    'users/get-authenticated': (ctx) => ({ status: 200, body: userJson(ctx.user.login) }),
    'orgs/get': (ctx) => {
      if (!state.orgs.has(ctx.params.org ?? '')) throw new HttpError(404, 'Not Found')
      return { status: 200, body: { login: ctx.params.org ?? '', id: 2, type: 'Organization' } }
    },
    'repos/get': (ctx) => ({ status: 200, body: repoJson(repoOf(ctx)) }),
    'repos/create-in-org': (ctx) => {
      const org = ctx.params.org ?? ''
      const members = state.orgs.get(org)
      if (!members) throw new HttpError(404, 'Not Found')
      requireWrite(ctx)
      if (!members.has(ctx.user.login))
        throw new HttpError(403, 'You need admin access to the organization before adding a repository to it.')
      return createRepoHandler(org, ctx)
    },
    'repos/create-for-authenticated-user': (ctx) => {
      requireWrite(ctx)
      return createRepoHandler(ctx.user.login, ctx)
    },
    'git/get-ref': (ctx) => {
      const repo = repoOf(ctx)
      const ref = `refs/${ctx.params.ref}`
      const sha = repo.refs.get(ref)
      if (!sha) throw new HttpError(404, 'Not Found')
      return { status: 200, body: refJson(repo, ref, sha) }
    },
    'git/create-ref': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const ref = String(ctx.body.ref)
      const sha = String(ctx.body.sha)
      if (!ref.startsWith('refs/') || ref.split('/').length < 3)
        throw new HttpError(422, 'Reference name must start with refs/ and have at least two slashes')
      if (repo.refs.has(ref)) throw new HttpError(422, 'Reference already exists')
      if (!repo.commits.has(sha)) throw new HttpError(422, 'Object does not exist')
      repo.refs.set(ref, sha)
      return { status: 201, body: refJson(repo, ref, sha) }
    },
    'git/update-ref': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const ref = `refs/${ctx.params.ref}`
      const current = repo.refs.get(ref)
      const sha = String(ctx.body.sha)
      if (!current) throw new HttpError(422, 'Reference does not exist')
      if (!repo.commits.has(sha)) throw new HttpError(422, 'Object does not exist')
      if (ctx.body.force !== true && !isAncestor(repo, current, sha))
        throw new HttpError(422, 'Update is not a fast forward')
      repo.refs.set(ref, sha)
      return { status: 200, body: refJson(repo, ref, sha) }
    },
    'git/delete-ref': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      if (!repo.refs.delete(`refs/${ctx.params.ref}`)) throw new HttpError(422, 'Reference does not exist')
      return { status: 204 }
    },
    'git/get-commit': (ctx) => {
      const repo = repoOf(ctx)
      const commit = repo.commits.get(ctx.params.commit_sha ?? '')
      if (!commit) throw new HttpError(404, 'Not Found')
      return { status: 200, body: commitJson(repo, commit) }
    },
    'git/create-commit': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const tree = trees.get(String(ctx.body.tree))
      if (!tree) throw new HttpError(422, 'Tree SHA does not exist')
      const parents = ((ctx.body.parents as string[] | undefined) ?? []).map(String)
      for (const parent of parents) if (!repo.commits.has(parent)) throw new HttpError(422, 'Parent SHA does not exist')
      const sha = commitFiles(repo, parents, tree, String(ctx.body.message))
      return { status: 201, body: commitJson(repo, repo.commits.get(sha) as FakeCommit) }
    },
    'git/create-blob': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const content =
        ctx.body.encoding === 'base64'
          ? Buffer.from(String(ctx.body.content), 'base64').toString('utf8')
          : String(ctx.body.content)
      const sha = gitSha('blob', content)
      repo.blobs.set(sha, content)
      return { status: 201, body: { sha, url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}` } }
    },
    'git/get-blob': (ctx) => {
      const repo = repoOf(ctx)
      const content = repo.blobs.get(ctx.params.file_sha ?? '')
      if (content === undefined) throw new HttpError(404, 'Not Found')
      const sha = ctx.params.file_sha ?? ''
      return {
        status: 200,
        body: {
          sha,
          node_id: `B_${sha}`,
          size: Buffer.byteLength(content),
          url: '',
          content: Buffer.from(content).toString('base64'),
          encoding: 'base64',
        },
      }
    },
    'git/create-tree': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const baseTree = ctx.body.base_tree === undefined ? {} : trees.get(String(ctx.body.base_tree))
      if (!baseTree) throw new HttpError(422, 'base_tree is not a valid tree oid')
      const tree = { ...baseTree }
      for (const entry of (ctx.body.tree as JsonObject[]) ?? []) {
        const path = String(entry.path)
        if (entry.type === 'tree' || entry.type === 'commit') throw new HttpError(422, 'the fake stores blobs only')
        if (typeof entry.content === 'string') {
          const sha = gitSha('blob', entry.content)
          repo.blobs.set(sha, entry.content)
          tree[path] = sha
        } else if (entry.sha === null) {
          delete tree[path]
        } else if (typeof entry.sha === 'string' && repo.blobs.has(entry.sha)) {
          tree[path] = entry.sha
        } else {
          throw new HttpError(422, `tree.sha ${String(entry.sha)} is not a valid blob`)
        }
      }
      const sha = storeTree(tree)
      return { status: 201, body: treeJson(repo, sha, tree) }
    },
    'git/get-tree': (ctx) => {
      const repo = repoOf(ctx)
      const tree =
        trees.get(ctx.params.tree_sha ?? '') ??
        (() => {
          try {
            return commitAt(repo, ctx.params.tree_sha).tree
          } catch {
            return undefined
          }
        })()
      if (!tree) throw new HttpError(404, 'Not Found')
      return { status: 200, body: treeJson(repo, treeSha(tree), tree) }
    },
    'repos/get-content': (ctx) => {
      const repo = repoOf(ctx)
      const commit = commitAt(repo, ctx.query.get('ref'))
      const path = (ctx.params.path ?? '').replace(/^\/+|\/+$/g, '')
      const sha = commit.tree[path]
      if (sha !== undefined) {
        const content = repo.blobs.get(sha) ?? ''
        return { status: 200, body: contentJson(repo, path, sha, content) }
      }
      const prefix = path === '' ? '' : `${path}/`
      const children = Object.keys(commit.tree).filter((file) => file.startsWith(prefix))
      if (children.length === 0) throw new HttpError(404, 'Not Found')
      const names = [...new Set(children.map((file) => file.slice(prefix.length).split('/')[0] ?? ''))].sort()
      return {
        status: 200,
        list: names.map((name) => {
          const full = `${prefix}${name}`
          const blob = commit.tree[full]
          return {
            type: blob ? 'file' : 'dir',
            name,
            path: full,
            sha: blob ?? gitSha('tree', full),
            size: blob ? Buffer.byteLength(repo.blobs.get(blob) ?? '') : 0,
            url: '',
            git_url: null,
            html_url: null,
            download_url: null,
            _links: { self: '', git: null, html: null },
          }
        }),
      }
    },
    'repos/create-or-update-file-contents': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const branch = typeof ctx.body.branch === 'string' ? ctx.body.branch : repo.defaultBranch
      const path = ctx.params.path ?? ''
      const head = repo.refs.get(`refs/heads/${branch}`)
      const parent = head ? repo.commits.get(head) : undefined
      const existing = parent?.tree[path]
      if (existing !== undefined && ctx.body.sha !== existing)
        throw new HttpError(409, `${path} does not match ${String(ctx.body.sha)}`)
      if (existing === undefined && ctx.body.sha !== undefined)
        throw new HttpError(422, `"sha" was supplied but ${path} does not exist`)
      const content = Buffer.from(String(ctx.body.content), 'base64').toString('utf8')
      const blob = gitSha('blob', content)
      repo.blobs.set(blob, content)
      const tree = { ...(parent?.tree ?? {}), [path]: blob }
      storeTree(tree)
      const sha = commitFiles(repo, head ? [head] : [], tree, String(ctx.body.message))
      repo.refs.set(`refs/heads/${branch}`, sha)
      return {
        status: existing === undefined ? 201 : 200,
        body: {
          content: contentJson(repo, path, blob, content),
          commit: commitJson(repo, repo.commits.get(sha) as FakeCommit),
        },
      }
    },
    'pulls/list': (ctx) => {
      const repo = repoOf(ctx)
      const wanted = ctx.query.get('state') ?? 'open'
      const head = ctx.query.get('head')
      const base = ctx.query.get('base')
      const pulls = repo.pulls.filter(
        (pull) =>
          (wanted === 'all' || pull.state === wanted) &&
          (!head || `${repo.owner}:${pull.head}` === head) &&
          (!base || pull.base === base),
      )
      return { status: 200, list: pulls.map((pull) => pullJson(repo, pull)) }
    },
    'pulls/create': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const head = String(ctx.body.head).replace(/^[^:]+:/, '')
      const base = String(ctx.body.base)
      if (!repo.refs.has(`refs/heads/${head}`))
        throw new HttpError(422, `Validation Failed: head ${head} does not exist`)
      if (!repo.refs.has(`refs/heads/${base}`))
        throw new HttpError(422, `Validation Failed: base ${base} does not exist`)
      if (repo.pulls.some((pull) => pull.state === 'open' && pull.head === head && pull.base === base)) {
        throw new HttpError(422, `A pull request already exists for ${repo.owner}:${head}.`)
      }
      const pull: FakePull = {
        number: repo.nextNumber++,
        title: String(ctx.body.title ?? head),
        body: typeof ctx.body.body === 'string' ? ctx.body.body : null,
        state: 'open',
        head,
        base,
        user: ctx.user.login,
        merged: false,
        labels: [],
      }
      repo.pulls.push(pull)
      return { status: 201, body: pullJson(repo, pull) }
    },
    'pulls/get': (ctx) => {
      const repo = repoOf(ctx)
      const pull = repo.pulls.find((p) => p.number === Number(ctx.params.pull_number))
      if (!pull) throw new HttpError(404, 'Not Found')
      return { status: 200, body: pullJson(repo, pull) }
    },
    'pulls/update': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const pull = repo.pulls.find((p) => p.number === Number(ctx.params.pull_number))
      if (!pull) throw new HttpError(404, 'Not Found')
      if (typeof ctx.body.title === 'string') pull.title = ctx.body.title
      if (typeof ctx.body.body === 'string') pull.body = ctx.body.body
      if (ctx.body.state === 'open' || ctx.body.state === 'closed') pull.state = ctx.body.state
      if (typeof ctx.body.base === 'string') pull.base = ctx.body.base
      return { status: 200, body: pullJson(repo, pull) }
    },
    'issues/list-for-repo': (ctx) => {
      const repo = repoOf(ctx)
      const wanted = ctx.query.get('state') ?? 'open'
      const labels = (ctx.query.get('labels') ?? '').split(',').filter(Boolean)
      const all = [...repo.issues, ...repo.pulls].sort((a, b) => b.number - a.number)
      const issues = all.filter(
        (issue) =>
          (wanted === 'all' || issue.state === wanted) && labels.every((label) => issue.labels.includes(label)),
      )
      return { status: 200, list: issues.map((issue) => issueJson(repo, issue)) }
    },
    'issues/create': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const issue: FakeIssue = {
        number: repo.nextNumber++,
        title: String(ctx.body.title),
        body: typeof ctx.body.body === 'string' ? ctx.body.body : null,
        state: 'open',
        labels: ((ctx.body.labels as Json[] | undefined) ?? []).map((l) =>
          typeof l === 'string' ? l : String((l as JsonObject)?.name),
        ),
        user: ctx.user.login,
      }
      repo.issues.push(issue)
      return { status: 201, body: issueJson(repo, issue) }
    },
    'issues/update': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      const number = Number(ctx.params.issue_number)
      const issue = repo.issues.find((i) => i.number === number) ?? repo.pulls.find((p) => p.number === number)
      if (!issue) throw new HttpError(404, 'Not Found')
      if (typeof ctx.body.title === 'string') issue.title = ctx.body.title
      if (typeof ctx.body.body === 'string') issue.body = ctx.body.body
      if (ctx.body.state === 'open' || ctx.body.state === 'closed') issue.state = ctx.body.state
      if (Array.isArray(ctx.body.labels)) {
        issue.labels = ctx.body.labels.map((l) => (typeof l === 'string' ? l : String((l as JsonObject)?.name)))
      }
      return { status: 200, body: issueJson(repo, issue) }
    },
    'repos/create-dispatch-event': (ctx) => {
      const repo = repoOf(ctx)
      requireRepoWrite(ctx, repo)
      state.dispatches.push({
        repo: `${repo.owner}/${repo.name}`,
        eventType: String(ctx.body.event_type),
        payload: ctx.body.client_payload ?? null,
      })
      return { status: 204 }
    },
  }

  function treeJson(repo: FakeRepo, sha: string, tree: Record<string, string>): Json {
    return {
      sha,
      url: `${apiUrl()}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`,
      truncated: false,
      tree: Object.entries(tree)
        .sort()
        .map(([path, blob]) => ({
          path,
          mode: '100644',
          type: 'blob',
          sha: blob,
          size: Buffer.byteLength(repo.blobs.get(blob) ?? ''),
          url: '',
        })),
    }
  }

  function contentJson(repo: FakeRepo, path: string, sha: string, content: string): Json {
    const full = `${repo.owner}/${repo.name}`
    return {
      type: 'file',
      encoding: 'base64',
      size: Buffer.byteLength(content),
      name: path.split('/').pop() ?? path,
      path,
      content: Buffer.from(content).toString('base64'),
      sha,
      url: `${apiUrl()}/repos/${full}/contents/${path}`,
      git_url: `${apiUrl()}/repos/${full}/git/blobs/${sha}`,
      html_url: `${apiUrl()}/html/${full}/blob/${path}`,
      download_url: null,
      _links: { self: `${apiUrl()}/repos/${full}/contents/${path}`, git: null, html: null },
    }
  }

  function isAncestor(repo: FakeRepo, ancestor: string, sha: string): boolean {
    const seen = new Set<string>()
    const queue = [sha]
    while (queue.length > 0) {
      const current = queue.pop() as string
      if (current === ancestor) return true
      if (seen.has(current)) continue
      seen.add(current)
      queue.push(...(repo.commits.get(current)?.parents ?? []))
    }
    return false
  }

  function respond(res: ServerResponse, status: number, body: Json | undefined, headers: Record<string, string> = {}) {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3',
      ...headers,
    })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }

  function shapeResponse(op: Operation, status: number, result: { body?: Json; list?: Json[] }): Json | undefined {
    const pointer = `/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}/responses/${status}`
    const response = resolveRef(spec, (op.spec.responses as Record<string, Schema>)[String(status)] ?? {})
    const schema = (response.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema
    if (!schema) {
      if (result.body !== undefined || result.list !== undefined)
        state.violations.push(`${op.operationId} ${status}: the spec has no body for this status`)
      return undefined
    }
    const body = build(spec, schema, result.list ?? result.body)
    const validate = validatorFor(spec, `${pointer}/content/application~1json/schema`)
    if (!validate(body)) {
      for (const error of validate.errors?.slice(0, 5) ?? []) {
        state.violations.push(`response ${op.operationId} ${status}: ${error.instancePath || '/'} ${error.message}`)
      }
    }
    return body
  }

  function checkRequest(op: Operation, body: unknown): string[] {
    const requestBody = op.spec.requestBody as Schema | undefined
    if (!requestBody) return []
    const pointer = `/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}/requestBody/content/application~1json/schema`
    const validate = validatorFor(spec, pointer)
    if (validate(body)) return []
    return (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const method = (req.method ?? 'GET').toUpperCase()
    const parsedUrl = new URL(req.url ?? '/', 'http://fake')
    const path = decodeURIComponent(parsedUrl.pathname)
    const record: RecordedRequest = { method, path, operationId: null, status: 0, body: undefined }
    state.requests.push(record)
    const send = (status: number, body?: Json, headers?: Record<string, string>) => {
      record.status = status
      respond(res, status, body, headers)
    }
    const error = (status: number, message: string) =>
      send(status, { message, documentation_url: 'https://docs.github.com/rest', status: String(status) })

    const op = spec.operations.find((candidate) => candidate.method === method && candidate.regex.test(path))
    if (!op) {
      state.violations.push(`${method} ${path}: no such operation in the GitHub REST description`)
      return error(404, 'Not Found')
    }
    record.operationId = op.operationId
    let body: JsonObject = {}
    if (text.length > 0) {
      try {
        body = JSON.parse(text) as JsonObject
      } catch {
        state.violations.push(`${op.operationId}: request body is not JSON`)
        return error(400, 'Problems parsing JSON')
      }
    }
    record.body = text.length > 0 ? body : undefined
    const problems = checkRequest(op, text.length > 0 ? body : {})
    if (problems.length > 0) {
      state.violations.push(...problems.map((p) => `request ${op.operationId}: ${p}`))
      return error(422, `Invalid request.\n\n${problems.join('\n')}`)
    }

    const auth = req.headers.authorization ?? ''
    const token = auth.replace(/^(token|bearer)\s+/i, '')
    const user = state.users.get(token)
    if (!user) return error(401, auth ? 'Bad credentials' : 'Requires authentication')

    const ruleIndex = state.failures.findIndex(
      (rule) =>
        (!rule.method || rule.method.toUpperCase() === method) &&
        (typeof rule.path === 'string' ? rule.path === path : rule.path.test(path)),
    )
    const rule = state.failures[ruleIndex]
    if (rule) {
      rule.times = (rule.times ?? 1) - 1
      if (rule.times <= 0) state.failures.splice(ruleIndex, 1)
      return error(rule.status, rule.message ?? 'Injected failure')
    }

    const handler = HANDLERS[op.operationId]
    if (!handler) {
      state.violations.push(`${op.operationId} (${method} ${op.template}) is not implemented by the fake`)
      return error(501, `${op.operationId} is not implemented by the GitHub fake`)
    }
    const match = op.regex.exec(path) as RegExpExecArray
    const params = Object.fromEntries(op.params.map((name, index) => [name, match[index + 1] ?? '']))
    try {
      const result = handler({ op, params, query: parsedUrl.searchParams, body, user, base: url })
      const headers: Record<string, string> =
        op.operationId === 'users/get-authenticated' ? { 'x-oauth-scopes': user.scopes.join(', ') } : {}
      send(result.status, shapeResponse(op, result.status, result), headers)
    } catch (thrown) {
      if (thrown instanceof HttpError) return error(thrown.status, thrown.message)
      state.violations.push(`${op.operationId}: fake crashed: ${(thrown as Error).stack}`)
      return error(500, 'fake crashed')
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      state.violations.push(`fake crashed: ${err.stack}`)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const defaultUser = addUser('octocat', { orgs: ['acme'] })

  return {
    url,
    token: defaultUser.token,
    state,
    addUser,
    addOrg,
    addRepo: (fullName, options = {}) => {
      const [owner = '', name = ''] = fullName.split('/')
      return createRepo(owner, name, { ...options, files: options.files ?? { 'README.md': `# ${name}\n` } })
    },
    files: (fullName, ref) => {
      const repo = state.repos.get(fullName.toLowerCase())
      if (!repo) return undefined
      try {
        const commit = commitAt(repo, ref)
        return Object.fromEntries(Object.entries(commit.tree).map(([path, sha]) => [path, repo.blobs.get(sha) ?? '']))
      } catch {
        return undefined
      }
    },
    failNext: (rule) => {
      state.failures.push(rule)
    },
    writes: () => state.requests.filter((request) => request.method !== 'GET'),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
