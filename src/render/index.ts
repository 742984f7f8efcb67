export { buildKustomization, findOnPath } from './kustomize.js'
export { type ImageSource, planRender, RENDER_MARKER, type RenderedImage, type RenderPlan } from './plan.js'
export { type RenderOptions, type RenderResult, renderSnapshot } from './render.js'
export { parseSnapshotText, readSnapshotInput } from './snapshot-input.js'
