export {
  type ComponentStatus,
  type EnvironmentStatus,
  formatStatusTable,
  type PinState,
  type RegistryView,
  repoStatus,
  type StatusOptions,
  type StatusReport,
  statusOf,
  type TagResolver,
} from './status.js'
