import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, UpstreamResponse, type BodyConsumer } from './http-client.ts';

/** A response as the dispatch handler makes it, with what it asked of the connection. */
function response(): { response: UpstreamResponse; aborted: Error[]; resumes: () => number } {
  const aborted: Error[] = [];
  let resumes = 0;
  const made = new UpstreamResponse(200, { 'content-type': 'text/event-stream' }, (reason) => aborted.push(reason), () => resumes++);
  return { response: made, aborted, resumes: () => resumes };
}

/** A consumer that records what it got; it pauses the response once, at its `pauseAt`th chunk. */
function recorder(target: UpstreamResponse, pauseAt = 0): BodyConsumer & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    data(chunk) {
      got.push(chunk.toString());
      if (got.length === pauseAt) target.pause();
    },
    end() {
      got.push('END');
    },
    error(error) {
      got.push(`ERROR ${error.message}`);
    },
  };
}

test('chunks and the end that arrive before the consumer are held for it, in order', () => {
  const { response: r } = response();
  assert.equal(r.chunk(Buffer.from('a')), true);
  assert.equal(r.chunk(Buffer.from('b')), true);
  r.finish(null);
  const consumer = recorder(r);
  r.consume(consumer);
  assert.deepEqual(consumer.got, ['a', 'b', 'END']);
  assert.equal(r.done, true);
});

test('a paused consumer stops the upstream, and resuming delivers what was held, then the end', () => {
  const { response: r, resumes } = response();
  const consumer = recorder(r, 1);
  r.consume(consumer);
  assert.equal(r.chunk(Buffer.from('a')), false, 'the handler tells undici to pause');
  // A chunk already parsed when the pause came is held, not lost.
  r.chunk(Buffer.from('b'));
  r.finish(null);
  assert.deepEqual(consumer.got, ['a']);
  r.resume();
  assert.deepEqual(consumer.got, ['a', 'b', 'END']);
  assert.equal(resumes(), 0, 'the body had ended: nothing to resume upstream');
});

test('resuming a consumer paused mid-body resumes the upstream', () => {
  const { response: r, resumes } = response();
  const consumer = recorder(r, 1);
  r.consume(consumer);
  r.chunk(Buffer.from('a'));
  r.resume();
  assert.equal(resumes(), 1);
  assert.equal(r.chunk(Buffer.from('b')), true);
  r.finish(null);
  assert.deepEqual(consumer.got, ['a', 'b', 'END']);
});

test('a failure after the held chunks reaches the consumer after them', () => {
  const { response: r } = response();
  r.chunk(Buffer.from('a'));
  r.finish(new Error('closed mid-body'));
  const consumer = recorder(r);
  r.consume(consumer);
  assert.deepEqual(consumer.got, ['a', 'ERROR closed mid-body']);
});

test('destroy aborts the exchange once, and nothing more reaches the consumer', () => {
  const { response: r, aborted } = response();
  const consumer = recorder(r);
  r.consume(consumer);
  r.chunk(Buffer.from('a'));
  r.destroy();
  r.destroy();
  r.chunk(Buffer.from('b'));
  r.finish(new CancelledError());
  assert.deepEqual(consumer.got, ['a']);
  assert.equal(aborted.length, 1);
  assert.ok(aborted[0] instanceof CancelledError);
});

test('discard reads the body to its end without a consumer of its own', () => {
  const { response: r, aborted } = response();
  r.chunk(Buffer.from('a'));
  r.discard();
  r.chunk(Buffer.from('b'));
  r.finish(null);
  assert.equal(r.done, true);
  assert.equal(aborted.length, 0, 'the connection is not closed: it goes back to the pool');
});
