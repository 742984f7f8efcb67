export {
  DOCKER_HUB,
  formatImageRef,
  type ImageRef,
  ImageRefError,
  type ImageRefPart,
  isSha256Digest,
  parseImageRef,
  registry,
  repository,
  tryParseImageRef,
  withDigest,
  withTag,
} from './reference.js'
