// Resource templates a federated API routes reads by: a URI fits one when its literal parts agree.
import { escapeRegExp } from '../../mcp/glob.ts';

/**
 * Whether a URI fits an RFC 6570 template, comparing the literal parts: each `{…}` expression
 * matches any characters (`{+path}` and `{path}` alike). Enough to route a read to the server
 * whose template it came from.
 */
export function templateToRegExp(template: string): RegExp {
  let out = '^';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      out += escapeRegExp(template.slice(i));
      break;
    }
    out += escapeRegExp(template.slice(i, open));
    const close = template.indexOf('}', open);
    if (close === -1) {
      out += escapeRegExp(template.slice(open));
      break;
    }
    out += '.*';
    i = close + 1;
  }
  return new RegExp(`${out}$`, 's');
}
