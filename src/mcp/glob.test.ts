import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp } from './glob.ts';

test('one glob syntax: * stays within a path segment, ** crosses them, ? is one character but "/", \\ escapes', () => {
  const cases: Array<[string, string, boolean]> = [
    ['files_*', 'files_read', true],
    ['files_*', 'files_a/b', false],
    ['file:///srv/public/**', 'file:///srv/public/a/b.md', true],
    ['file:///srv/public/*', 'file:///srv/public/a/b.md', false],
    ['secret_?', 'secret_1', true],
    ['secret_?', 'secret_12', false],
    ['secret_?', 'secret_/', false],
    ['note://a\\?v=1', 'note://a?v=1', true],
    ['note://a\\?v=1', 'note://ax v=1', false],
    ['\\*literal', '*literal', true],
    ['\\*literal', 'xliteral', false],
    ['a.b(c)[d]{e}+^$|-/', 'a.b(c)[d]{e}+^$|-/', true],
    ['a.b', 'axb', false],
    ['trailing\\', 'trailing\\', true],
  ];
  for (const [glob, subject, expected] of cases) assert.equal(globToRegExp(glob).test(subject), expected, `${glob} ~ ${subject}`);
});
