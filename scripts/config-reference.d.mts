/** Renders docs/configuration.md from the config's JSON Schema. */
export function renderConfigReference(schema: Record<string, unknown>): string;
