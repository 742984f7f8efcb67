/**
 * The journal's schema, as numbered migrations. A store records the version it is at (SQLite: PRAGMA user_version;
 * PostgreSQL: the schema_migrations table), applies the missing ones at open in one transaction, and refuses a
 * journal whose version is newer than this binary knows (an older releaser must not write a newer layout).
 *
 * 1: the layout of the first releaser (events, retags, notifications: two queues). PostgreSQL journals never had
 *    it and start at 2.
 * 2: releases and ONE queue of steps (retag, notify), each with a serialisation key (the repository it writes to)
 *    and a claim (owner, expiry) so several replicas can share the queue; the other tables renamed to match.
 * 3: steps indexed by (release, kind, state), replacing the index on release alone: settling a step asks whether
 *    its release still has a pending retag (and, when not, whether one failed) with one index probe instead of
 *    reading every step of the release, which made a 10,000-step Snapshot cost ~10,000² row reads to settle.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sqlite: string
  readonly postgres: string
}

const LEGACY_SQLITE = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  snapshot_key TEXT NOT NULL UNIQUE,
  snapshot TEXT NOT NULL,
  namespace TEXT,
  application TEXT NOT NULL,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS retags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES events(id),
  component TEXT NOT NULL,
  source TEXT NOT NULL,
  registry TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  target TEXT NOT NULL,
  digest TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retags_due ON retags(state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS retags_event ON retags(event_id);
CREATE INDEX IF NOT EXISTS retags_pending_target ON retags(state, target, next_attempt_at);
CREATE TABLE IF NOT EXISTS tags (
  target TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  created_at TEXT NOT NULL,
  event_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  retag_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms REAL
);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  component TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  from_digest TEXT,
  to_digest TEXT NOT NULL,
  action TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES events(id),
  repository TEXT NOT NULL,
  via TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  outcome TEXT,
  message TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (event_id, repository)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_at, id);
CREATE INDEX IF NOT EXISTS history_component ON history(component);
CREATE INDEX IF NOT EXISTS history_tag ON history(tag);
CREATE INDEX IF NOT EXISTS events_finished ON events(finished_at);
CREATE INDEX IF NOT EXISTS attempts_retag ON attempts(retag_id);
CREATE INDEX IF NOT EXISTS history_event ON history(event_id);
`

const STEPS_SQLITE = `
ALTER TABLE events RENAME TO releases;
CREATE TABLE steps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  release_id TEXT NOT NULL REFERENCES releases(id),
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  claimed_by TEXT,
  claim_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  repository TEXT NOT NULL,
  component TEXT,
  source TEXT,
  registry TEXT,
  tag TEXT,
  target TEXT,
  digest TEXT,
  via TEXT,
  payload TEXT,
  outcome TEXT,
  message TEXT,
  sent_at INTEGER
);
INSERT INTO steps (id, release_id, kind, key, state, attempts, next_at, last_error, created_at, updated_at,
                   repository, component, source, registry, tag, target, digest)
  SELECT t.id, t.event_id, 'retag', t.repository, t.state, t.attempts, t.next_attempt_at, t.last_error,
         (SELECT r.received_at FROM releases r WHERE r.id = t.event_id), t.updated_at,
         t.repository, t.component, t.source, t.registry, t.tag, t.target, t.digest
  FROM retags t ORDER BY t.id;
INSERT INTO steps (release_id, kind, key, state, attempts, next_at, last_error, created_at, updated_at,
                   repository, via, payload, outcome, message, sent_at)
  SELECT event_id, 'notify', 'notify ' || repository, state, attempts, next_at, last_error, created_at, updated_at,
         repository, via, payload, outcome, message, sent_at
  FROM notifications ORDER BY id;
DROP TABLE retags;
DROP TABLE notifications;
ALTER TABLE tags RENAME COLUMN event_id TO release_id;
ALTER TABLE history RENAME COLUMN event_id TO release_id;
ALTER TABLE attempts RENAME COLUMN retag_id TO step_id;
CREATE INDEX steps_due ON steps(kind, state, next_at, id);
CREATE INDEX steps_key ON steps(key, state, claim_until);
CREATE INDEX steps_target ON steps(target, state);
CREATE INDEX steps_release ON steps(release_id);
CREATE UNIQUE INDEX steps_notify ON steps(release_id, repository) WHERE kind = 'notify';
`

// Text that orders Snapshots (creation time, name) compares byte-wise ("C"), as JavaScript and SQLite do.
const STEPS_POSTGRES = `
CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  snapshot_key TEXT NOT NULL UNIQUE,
  snapshot TEXT COLLATE "C" NOT NULL,
  namespace TEXT,
  application TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  body TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE TABLE steps (
  id BIGSERIAL PRIMARY KEY,
  release_id TEXT NOT NULL REFERENCES releases(id),
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  last_error TEXT,
  claimed_by TEXT,
  claim_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  repository TEXT NOT NULL,
  component TEXT,
  source TEXT,
  registry TEXT,
  tag TEXT,
  target TEXT,
  digest TEXT,
  via TEXT,
  payload TEXT,
  outcome TEXT,
  message TEXT,
  sent_at BIGINT
);
CREATE TABLE tags (
  target TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  snapshot TEXT COLLATE "C" NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  release_id TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE attempts (
  id BIGSERIAL PRIMARY KEY,
  step_id BIGINT NOT NULL,
  at BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms DOUBLE PRECISION
);
CREATE TABLE history (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  release_id TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  component TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  from_digest TEXT,
  to_digest TEXT NOT NULL,
  action TEXT NOT NULL
);
CREATE TABLE cursors (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE INDEX steps_due ON steps(kind, state, next_at, id);
CREATE INDEX steps_key ON steps(key, state, claim_until);
CREATE INDEX steps_target ON steps(target, state);
CREATE INDEX steps_release ON steps(release_id);
CREATE UNIQUE INDEX steps_notify ON steps(release_id, repository) WHERE kind = 'notify';
CREATE INDEX history_component ON history(component);
CREATE INDEX history_tag ON history(tag);
CREATE INDEX history_release ON history(release_id);
CREATE INDEX attempts_step ON attempts(step_id);
CREATE INDEX releases_finished ON releases(finished_at);
`

// Same statements in both dialects. The new index starts with release_id, so it serves every lookup by release the
// old one did (a release's view, prune, retry).
const RELEASE_STATE_INDEX = `
DROP INDEX steps_release;
CREATE INDEX steps_release_state ON steps(release_id, kind, state);
`

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'first layout: events, retags, notifications', sqlite: LEGACY_SQLITE, postgres: '' },
  { version: 2, name: 'releases and one queue of steps', sqlite: STEPS_SQLITE, postgres: STEPS_POSTGRES },
  {
    version: 3,
    name: 'steps indexed by release, kind and state',
    sqlite: RELEASE_STATE_INDEX,
    postgres: RELEASE_STATE_INDEX,
  },
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version
