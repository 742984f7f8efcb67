export {
  type DigestPinning,
  describeIssue,
  digestPinning,
  type Issue,
  type RenovateValidation,
  type ValidateRenovateOptions,
  validateRenovateConfig,
} from './validator.js'

/** Repository config files Renovate reads, in its order (Renovate's app-strings, without package.json). */
export const RENOVATE_CONFIG_FILES = [
  'renovate.json',
  'renovate.jsonc',
  'renovate.json5',
  '.github/renovate.json',
  '.github/renovate.jsonc',
  '.github/renovate.json5',
  '.gitlab/renovate.json',
  '.gitlab/renovate.jsonc',
  '.gitlab/renovate.json5',
  '.renovaterc',
  '.renovaterc.json',
  '.renovaterc.jsonc',
  '.renovaterc.json5',
] as const
