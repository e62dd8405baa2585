import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_ANNOTATIONS, TrustedAnnotations } from './trusted.ts';

test('the operator\'s annotations: an exact name wins over globs, then the first glob that matches; unset flags are false', () => {
  const annotations = new TrustedAnnotations({
    mail: { 'send_*': { exfiltration: true }, '*': { openWorld: true }, send_draft: { readOnly: true } },
    web: { 'fetch\\*': { untrustedOutput: true } },
  });
  assert.deepEqual(annotations.of('mail', 'send_draft'), { ...NO_ANNOTATIONS, readOnly: true });
  assert.deepEqual(annotations.of('mail', 'send_mail'), { ...NO_ANNOTATIONS, exfiltration: true });
  assert.deepEqual(annotations.of('mail', 'read_inbox'), { ...NO_ANNOTATIONS, openWorld: true });
  assert.equal(annotations.of('mail', 'send_mail'), annotations.of('mail', 'send_mail'), 'a glob\'s answer is remembered');
  assert.deepEqual(annotations.of('web', 'fetch*'), { ...NO_ANNOTATIONS, untrustedOutput: true }, 'an escaped star is literal');
  assert.equal(annotations.of('web', 'fetch_url'), NO_ANNOTATIONS);
  assert.equal(annotations.of('other', 'send_mail'), NO_ANNOTATIONS, 'another server\'s tool of the same name is not marked');
  assert.equal(new TrustedAnnotations({}).empty, true);
  assert.deepEqual(annotations.marked('mail', 'readOnly'), ['send_draft']);
});
