// Hidden items are answered exactly as missing ones (src/mcp/missing.ts); a federated API answers
// names no server offers with the same functions.
export * from '../../mcp/missing.ts';
