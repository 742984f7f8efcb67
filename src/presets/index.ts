export {
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
