// Independent known-answer vectors for the ACP Merchant-Signature header (WH-02, WH-03).
const crypto = require('crypto');
function body(v) {
  if (v.body !== undefined) return Buffer.from(v.body, 'utf8');
  if (v.body_hex !== undefined) return Buffer.from(v.body_hex, 'hex');
  if (v.body_repeat !== undefined) return Buffer.from(v.body_repeat.unit.repeat(v.body_repeat.count), 'utf8');
  throw new Error('no body');
}
function mac(secret, t, b) {
  return crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.concat([Buffer.from(String(t) + '.', 'utf8'), b])).digest('hex');
}
const sign = [
  { name: 'empty_body', secret: 'whsec_test_secret', timestamp: '1709123456', body: '' },
  { name: 'json_order_event', secret: 'whsec_test_secret', timestamp: '1709123456',
    body: '{"type":"order_create","data":{"type":"order","id":"ord_123","checkout_session_id":"checkout_session_123","permalink_url":"https://example.com/orders/123","status":"created"}}' },
  { name: 'unicode_body', secret: 'clé-secrète-🔑', timestamp: '1760000000', body: '{"note":"naïve café — 日本語 🛒","emoji":"\u{1F600}"}' },
  { name: 'large_body_100k', secret: 'whsec_large_0123456789', timestamp: '1800000000', body_repeat: { unit: '{"k":"0123456789abcdef"},', count: 4000 } },
  { name: 'binary_non_utf8_body', secret: 'binary_0123456789ab', timestamp: '1', body_hex: '00ff80fe0a0d2e2e00' },
  { name: 'timestamp_zero', secret: 's_0123456789abcdef', timestamp: '0', body: 'x' },
  { name: 'timestamp_calendar_max', secret: 'edge_0123456789abcdef', timestamp: '253402300799', body: '{}' },
  { name: 'body_with_crlf_and_trailing_newline', secret: 'whsec_test_secret', timestamp: '1709123456', body: '{\r\n  "type": "order_update"\r\n}\n' },
  { name: 'long_secret_over_block_size', secret: 'k'.repeat(100), timestamp: '1709123456', body: 'payload' },
];
for (const v of sign) {
  v.v1 = mac(v.secret, v.timestamp, body(v));
  v.header = `t=${v.timestamp},v1=${v.v1}`;
}
// Headers that are valid and must verify (at `now`) with the given secrets.
const b = '{"type":"order_update"}';
const s1 = 'whsec_old_0123456789', s2 = 'whsec_new_0123456789';
const m1 = mac(s1, '1709123456', Buffer.from(b)), m2 = mac(s2, '1709123456', Buffer.from(b));
const verify = [
  { name: 'upper_case_hex', secrets: [s1], body: b, now: 1709123456, header: `t=1709123456,v1=${m1.toUpperCase()}`, expect: 'ok' },
  { name: 'mixed_case_hex', secrets: [s1], body: b, now: 1709123456, header: `t=1709123456,v1=${m1.slice(0,32).toUpperCase()}${m1.slice(32)}`, expect: 'ok' },
  { name: 'rotation_old_secret_of_two', secrets: [s2, s1], body: b, now: 1709123456, header: `t=1709123456,v1=${m1}`, expect: 'ok' },
  { name: 'two_v1_second_matches', secrets: [s2], body: b, now: 1709123456, header: `t=1709123456,v1=${m1},v1=${m2}`, expect: 'ok' },
  { name: 'v1_before_t_and_unknown_v0', secrets: [s1], body: b, now: 1709123456, header: `v0=deadbeef,v1=${m1},t=1709123456`, expect: 'ok' },
  { name: 'leading_zero_timestamp_signed_verbatim', secrets: [s1], body: b, now: 1709123456, header: `t=01709123456,v1=${mac(s1, '01709123456', Buffer.from(b))}`, expect: 'ok' },
  { name: 'leading_zero_timestamp_signed_reformatted', secrets: [s1], body: b, now: 1709123456, header: `t=01709123456,v1=${m1}`, expect: 'mismatch' },
  { name: 'wrong_secret', secrets: [s2], body: b, now: 1709123456, header: `t=1709123456,v1=${m1}`, expect: 'mismatch' },
  { name: 'past_edge_accepted', secrets: [s1], body: b, now: 1709123756, header: `t=1709123456,v1=${m1}`, expect: 'ok' },
  { name: 'past_edge_plus_one_stale', secrets: [s1], body: b, now: 1709123757, header: `t=1709123456,v1=${m1}`, expect: 'stale' },
  { name: 'future_edge_accepted', secrets: [s1], body: b, now: 1709123396, header: `t=1709123456,v1=${m1}`, expect: 'ok' },
  { name: 'future_edge_plus_one_stale', secrets: [s1], body: b, now: 1709123395, header: `t=1709123456,v1=${m1}`, expect: 'stale' },
  { name: 'spec_example_header_is_not_a_valid_mac', secrets: [s1], body: '', now: 1709123456, header: 't=1709123456,v1=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', expect: 'mismatch' },
];
process.stdout.write(JSON.stringify({
  description: 'Known-answer vectors for the ACP Merchant-Signature webhook header (WH-02, WH-03, WH-04), generated independently with Node.js crypto.createHmac; see generator in tests/vectors/webhook_vectors.gen.js. Secrets are UTF-8 strings used as raw HMAC key bytes; bodies are UTF-8 text (body), hex bytes (body_hex) or unit repeated count times (body_repeat). Verify vectors use the default window: 300 s in the past, 60 s in the future (inclusive).',
  generator: `node ${process.version}`,
  sign, verify }, null, 2) + '\n');
