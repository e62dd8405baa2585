import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUri, checkUriTemplate } from './uri.ts';

/** Spellings servers actually use: accepted as they are. */
const CANONICAL = [
  'file:///etc/passwd',
  'file:///C:/Users/me/notes.txt',
  'file:///tmp/caf%C3%A9.txt',
  'file:///srv/a%20b',
  'demo://resource/static/document/architecture.md',
  'demo://resource/dynamic/text/1',
  'test://static/resource/1',
  'note://hello',
  'https://example.com/docs/page?lang=en#intro',
  'http://127.0.0.1:8080/x',
  'urn:isbn:0451450523',
  'mailto:Someone@Example.com',
  'git://repo/README.md',
  'file:///srv/100%25',
];

/** Other spellings of a resource: refused, naming the canonical one. */
const FIXABLE: ReadonlyArray<readonly [string, string]> = [
  ['FILE:///etc/passwd', 'file:///etc/passwd'],
  ['File:///etc/passwd', 'file:///etc/passwd'],
  ['file:/etc/passwd', 'file:///etc/passwd'],
  ['file:etc/passwd', 'file:///etc/passwd'],
  [' file:///etc/passwd', 'file:///etc/passwd'],
  ['file:///etc/passwd ', 'file:///etc/passwd'],
  ['file://localhost/etc/passwd', 'file:///etc/passwd'],
  ['file:///etc/%70asswd', 'file:///etc/passwd'],
  ['file:///etc/pa%73%73wd', 'file:///etc/passwd'],
  ['file:///etc/x/../passwd', 'file:///etc/passwd'],
  ['file:///etc/./passwd', 'file:///etc/passwd'],
  ['file:///etc/x/%2e%2e/passwd', 'file:///etc/passwd'],
  ['file:///etc/x/%2E./passwd', 'file:///etc/passwd'],
  ['file:///tmp/café', 'file:///tmp/caf%C3%A9'],
  ['file:///tmp/caf%c3%a9', 'file:///tmp/caf%C3%A9'],
  ['file:///C|/x', 'file:///C:/x'],
  ['DEMO://resource/static/document/architecture.md', 'demo://resource/static/document/architecture.md'],
  ['demo://RESOURCE/static/document/architecture.md', 'demo://resource/static/document/architecture.md'],
  ['demo://resource/static/../static/document/architecture.md', 'demo://resource/static/document/architecture.md'],
  ['demo://resource/%73tatic/document/architecture.md', 'demo://resource/static/document/architecture.md'],
  ['HTTPS://Example.COM:443/docs', 'https://example.com/docs'],
  ['http://example.com', 'http://example.com/'],
  ['file:///srv/a b', 'file:///srv/a%20b'],
];

/** Spellings with no one meaning: refused without a suggestion. */
const AMBIGUOUS: ReadonlyArray<readonly [string, RegExp]> = [
  ['file:///etc%2Fpasswd', /percent-encodes "\/"/],
  ['file:///etc%2fpasswd', /percent-encoding/],
  ['file:///etc%5Cpasswd', /percent-encodes/],
  ['file:///etc/passwd%00.txt', /control character/],
  ['file:///etc/%252e%252e/passwd', /percent-encodes/],
  ['file:///etc\\passwd', /backslash/],
  ['demo://resource\\static', /backslash/],
  ['demo:../../etc/passwd', /path segment/],
  ['demo:./x', /path segment/],
  ['file:///etc//passwd', /empty path segment/],
  ['file:///etc/passwd?', /empty query/],
  ['file:///etc/passwd#', /empty query/],
  ['file:///etc/%zz', /percent-encoding/],
  ['/etc/passwd', /not an absolute URI/],
  ['etc/passwd', /not an absolute URI/],
  ['', /not an absolute URI/],
  ['demo:a b', /whitespace/],
  ['file:///etc/pa\u0000sswd', /control/],
  ['file:///etc/pa\tsswd', /whitespace/],
  [`file:///${'a'.repeat(5000)}`, /longer than/],
];

test('canonical resource URIs are accepted as they are', () => {
  for (const uri of CANONICAL) assert.deepEqual(checkUri(uri), { ok: true }, uri);
});

test('other spellings of a resource are refused and the canonical one is named', () => {
  for (const [uri, canonical] of FIXABLE) {
    const check = checkUri(uri);
    assert.equal(check.ok, false, `${JSON.stringify(uri)} must be refused`);
    if (!check.ok) assert.equal(check.canonical, canonical, JSON.stringify(uri));
    assert.deepEqual(checkUri(canonical), { ok: true }, `the suggestion for ${JSON.stringify(uri)} is itself accepted`);
  }
});

test('ambiguous URIs are refused without a suggestion', () => {
  for (const [uri, reason] of AMBIGUOUS) {
    const check = checkUri(uri);
    assert.equal(check.ok, false, `${JSON.stringify(uri)} must be refused`);
    if (!check.ok) {
      assert.match(check.reason, reason, JSON.stringify(uri));
      assert.equal(check.canonical, undefined, JSON.stringify(uri));
    }
  }
});

test('URI templates: expressions are kept, the rest must be canonical', () => {
  for (const template of ['demo://resource/dynamic/text/{resourceId}', 'file:///{+path}', 'https://example.com/{owner}/{repo}{?ref}', 'test://static/resource/{id}']) {
    assert.deepEqual(checkUriTemplate(template), { ok: true }, template);
  }
  const upper = checkUriTemplate('FILE:///{+path}');
  assert.ok(!upper.ok && upper.canonical === 'file:///{+path}', JSON.stringify(upper));
  const dots = checkUriTemplate('demo://r/a/../{id}');
  assert.ok(!dots.ok && dots.canonical === 'demo://r/{id}', JSON.stringify(dots));
  assert.equal(checkUriTemplate('file:///{path}/%2e%2e').ok, false);
  assert.equal(checkUriTemplate('file:///a\\{x}').ok, false);
  // Without expressions, a template is a URI.
  assert.deepEqual(checkUriTemplate('note://hello'), { ok: true });
});
