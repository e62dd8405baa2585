// Resource URIs are matched as sent, so a URI that could mean something else once the server
// decodes or normalizes it (dot segments, encoded separators or dots, control characters) is
// treated as hidden rather than matched against patterns.
const SUSPICIOUS = /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|%00|\\|[\u0000-\u001f\u007f]/i;

export function isAmbiguousUri(uri: string): boolean {
  return uri.length > 4096 || SUSPICIOUS.test(uri);
}
