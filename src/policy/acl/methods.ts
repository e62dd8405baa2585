// The methods an ACL rule's feature can authorize, per feature. Dependency-free on purpose: the
// config schema (schema.ts) and the console's Policy Studio (web/) both read this one list.
export const FEATURE_METHODS = {
  tools: ['tools/list', 'tools/call'],
  resources: ['resources/list', 'resources/read', 'resources/templates/list', 'resources/subscribe'],
  prompts: ['prompts/list', 'prompts/get'],
} as const;
export type FeatureType = keyof typeof FEATURE_METHODS;

/** The name pattern types of a feature (PatternSchema). */
export const PATTERN_TYPES = ['any', 'literal', 'glob', 'regex'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];
