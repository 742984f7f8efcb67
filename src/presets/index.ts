export {
  type BuildPresetsResult,
  buildPresets,
  checkPresetOptions,
  type PresetFile,
  type PresetOptions,
  readPresetDirectory,
  renderValidatedPresets,
  validatePresetFiles,
} from './build.js'
export { type PublishPresetsOptions, type PublishPresetsResult, publishPresets } from './publish.js'
export {
  checkAutomergeEnvironment,
  orgPresetParameters,
  PRESET_NAMES,
  PRESET_TEMPLATES,
  PRODUCTION_ENVIRONMENTS,
  type PresetName,
  type PresetParameters,
  presetReference,
  type RenovateConfig,
  renderAllPresets,
  renderPreset,
  renovateConfigForRepo,
  repoPresetParameters,
} from './render.js'
