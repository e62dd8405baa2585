// URI globs of a virtual server's resources: `**` matches any characters, `*` any but "/",
// everything else itself. Compiled once per load.

export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${out}$`, 's');
}

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
      out += escape(template.slice(i));
      break;
    }
    out += escape(template.slice(i, open));
    const close = template.indexOf('}', open);
    if (close === -1) {
      out += escape(template.slice(open));
      break;
    }
    out += '.*';
    i = close + 1;
  }
  return new RegExp(`${out}$`, 's');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
