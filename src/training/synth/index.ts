export { ATTRIBUTE_COUNT, ATTRIBUTE_NAMES, type AttributeName, attributes } from "./attributes.js";
export { MAX_RESPONSE_BYTES } from "./compose-response.js";
export {
  type FeaturePair,
  type FeatureSynth,
  type FeatureSynthOptions,
  type FeatureUser,
  generateFeatureSynth,
  userTheta,
} from "./feature-synth.js";
export { generateSynth } from "./generate-synth.js";
export { DEFAULT_SYNTH_OPTIONS } from "./synth-options.js";
export type {
  PlantedUser,
  SplitAccuracy,
  SynthBayes,
  SynthDataset,
  SynthOptions,
  SynthPlanted,
  SynthRow,
} from "./synth-types.js";
export { type SynthFiles, writeSynth } from "./write-synth.js";
