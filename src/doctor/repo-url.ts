/**
 * One spelling for a git repository's address, so `git@github.com:acme/shop.git`, `ssh://git@github.com/acme/shop`
 * and `https://github.com/acme/shop.git` compare as the same repository (Argo CD's repoURL against the git remote).
 * Hand-written because it is a few lines; the URL parsing itself is WHATWG URL.
 */
export function canonicalRepoUrl(url: string): string {
  let value = url.trim()
  // scp-like ssh: [user@]host:path (no scheme, no slash before the first colon)
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(value)
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    value = `ssh://${scp[1]}/${scp[2]}`
  }
  let host = ''
  let path = value
  try {
    const parsed = new URL(value)
    if (parsed.protocol === 'file:') return `file://${stripGit(decodeURIComponent(parsed.pathname))}`
    host = parsed.hostname.toLowerCase()
    // Default ports say nothing about the repository; other ports do (self-hosted servers).
    const defaultPort = ['', '22', '443', '80'].includes(parsed.port)
    if (!defaultPort) host += `:${parsed.port}`
    path = decodeURIComponent(parsed.pathname)
  } catch {
    // A local path (git accepts those as remotes).
    return `file://${stripGit(value)}`
  }
  return `${host}/${stripGit(path).replace(/^\/+/, '')}`
}

function stripGit(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.git$/, '')
}

export function sameRepository(a: string, b: string): boolean {
  const ca = canonicalRepoUrl(a)
  const cb = canonicalRepoUrl(b)
  // GitHub and GitLab treat owner/name case-insensitively; a path-only difference in case is the same repository.
  return ca === cb || (!ca.startsWith('file://') && ca.toLowerCase() === cb.toLowerCase())
}
