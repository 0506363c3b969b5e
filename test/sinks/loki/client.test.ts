/**
 * What a Loki answer means for a batch, on Loki's own messages (pkg/validation/validate.go's
 * format strings filled in, the ingester's wrapping, util.GroupedErrors' grouping) and the pages
 * a proxy in front of it sends: only a 400 naming an entry problem is about entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lokiRefusal, refusedEntryCount } from '../../../src/sinks/loki/client.js';

const STREAM = '{event_family="auth", host="h", job="loki-audit", level="info", service_name="loki-audit"}';

/** One message of each kind Loki refuses an entry with, as its distributor and ingester print them. */
const ENTRY_MESSAGES = [
  `entry for stream '${STREAM}' has timestamp too old: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-08T00:00:00Z`,
  `entry for stream '${STREAM}' has timestamp too new: 2027-01-01T00:00:00Z`,
  `max entry size '262144' bytes exceeded for stream '${STREAM}' while adding an entry with length '300000' bytes`,
  `Max entry size '262144' bytes exceeded for stream '${STREAM}' while adding an entry with length '300000' bytes`,
  `stream '${STREAM}' has structured metadata too large: '70000' bytes, limit: '65536' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it`,
  `error parsing labels '{level="info", 0x="y"}' with error: 1:17: parse error: unexpected character`,
  `stream '${STREAM}' has label value too long: 'xxxx'`,
  `entry for stream '${STREAM}' has 16 label names; limit 15`,
  "entry with timestamp 2026-01-01 00:00:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-01T01:00:00Z',\nuser 'acme', total ignored: 1 out of 20 for stream: {job=\"loki-audit\"}",
];

describe('lokiRefusal', () => {
  it('a 400 naming an entry problem refuses entries', () => {
    for (const m of ENTRY_MESSAGES) assert.equal(lokiRefusal(400, m), 'entries', m);
  });

  it("a 400 about the tenant or the push itself is the target's, even with entry problems beside it", () => {
    for (const m of [
      `stream '${STREAM}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it`,
      `missing required labels 'team' for user 'acme' for stream '${STREAM}' (policy: 'p')`,
      "couldn't parse push request: loghttp.PushRequest.Streams: []*loghttp.Stream: ReadArray: expect [ or , or ] or n, but found {",
      '<html><head><title>400 Bad Request</title></head><body>nginx</body></html>',
      `2 errors like: ${ENTRY_MESSAGES[1]}; 1 errors like: stream '${STREAM}' includes structured metadata, but this feature is disallowed.`,
    ])
      assert.equal(lokiRefusal(400, m), 'target', m);
  });

  it('429, 408 and 5xx are retried; 401/403 credentials; 404, 405 and redirects the path; 413 the size; other 4xx the target', () => {
    assert.deepEqual(
      [429, 408, 500, 502, 503, 504].map((s) => lokiRefusal(s, 'x')),
      [null, null, null, null, null, null],
    );
    assert.deepEqual(
      [401, 403, 404, 405, 301, 308, 413, 415, 422, 409].map((s) => lokiRefusal(s, 'x')),
      ['credentials', 'credentials', 'path', 'path', 'path', 'path', 'too-large', 'target', 'target', 'target'],
    );
  });
});

describe('refusedEntryCount', () => {
  it("sums the entry groups of Loki's grouped errors; a single error has no count; label errors count once", () => {
    assert.equal(refusedEntryCount(ENTRY_MESSAGES[0]), 0);
    assert.equal(refusedEntryCount(`3 errors like: ${ENTRY_MESSAGES[0]}; 2 errors like: ${ENTRY_MESSAGES[1]}`), 5);
    assert.equal(
      refusedEntryCount(`1 errors like: ${ENTRY_MESSAGES[0]}; 4 errors like: something Loki says of no entry`),
      1,
      'groups of other problems are not counted',
    );
  });
});
