// Globs of names and URIs, one syntax wherever a config takes one (ACL patterns, a virtual
// server's resources): `*` any run of characters but "/", `**` any run, `?` one character but "/",
// `\` makes the next character literal (`\?` for the question mark of a URI's query). Anchored.

export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) out += escapeRegExp(glob[++i]!);
    else if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += escapeRegExp(c);
  }
  return new RegExp(`${out}$`, 'su');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
