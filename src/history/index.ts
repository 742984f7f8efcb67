export { commitsTouching, describeCommit, type LoggedCommit, RevisionReader, resolveCommit } from './git-log.js'
export { type HistoryOptions, type HistoryResult, history, PinArchive, pinHistory } from './history.js'
export { type CommitPins, type PinChange, type PinChangeSource, pinChangesOf, sourceOf } from './plan.js'
