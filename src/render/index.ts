export { buildKustomization, findOnPath } from './kustomize.js'
export { type ImageSource, planRender, RENDER_MARKER, type RenderedImage, type RenderPlan } from './plan.js'
export {
  assertKnownComponents,
  componentsToPlan,
  findEnvironment,
  loadRepoSpec,
  type RenderOptions,
  type RenderResult,
  renderSnapshot,
  repoReader,
} from './render.js'
export { parseSnapshotText, readSnapshotInput } from './snapshot-input.js'
