// Generates the known-answer signature vectors tests/vectors/signature_*.json with Node.js
// crypto (OpenSSL), independently of the Rust implementation.
// Run from the repository root: `node tests/vectors/gen_signature.js`.
//
// - HMAC-SHA256 and Ed25519 signatures are deterministic: the Rust signer must reproduce them
//   byte for byte.
// - ES256 (ECDSA P-256) signatures made by Node use a random nonce, so the file changes on
//   every run; the Rust verifier must accept them. The RFC 6979 A.2.5 "sample" signature is
//   deterministic and is checked here with crypto.verify before it is written.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { jcs } = require('./jcs.js');

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const message = (content, timestamp, canonical) =>
  Buffer.from(content === 'timestamp_and_body' ? timestamp + '.' + canonical : canonical, 'utf8');

// Request bodies as a client might send them: whitespace, member order, `1.0`, escapes,
// members this crate does not model.
const BODIES = [
  '{}',
  '{"items":[{"id":"item_123","quantity":1}],"buyer":{"email":"a@example.com"}}',
  '{ "payment_method": {"type":"card", "number":"4242424242424242", "exp_month": 11.0},\n' +
    '  "allowance": {"reason":"one_time","max_amount":2000,"currency":"usd","expires_at":"2026-10-09T07:20:50Z"},\n' +
    '  "risk_signals":[{"type":"card_testing","score":10,"action":"manual_review"}],\n' +
    '  "metadata": {"note":"caf\\u00e9 \\ud83d\\ude00 \\"q\\"", "z":1e21, "a":1E-7}, "x_unknown_extension": [null,true,false] }',
];
const TIMESTAMPS = ['2026-01-30T12:00:00Z', '2025-09-29T23:59:59Z'];
const CONTENTS = ['canonical_body', 'timestamp_and_body'];

function cases(sign) {
  const out = [];
  BODIES.forEach((body, i) => {
    for (const content of CONTENTS) {
      const timestamp = TIMESTAMPS[i % TIMESTAMPS.length];
      const canonical = jcs(JSON.parse(body));
      out.push({ body, canonical, timestamp, content, signature: b64url(sign(message(content, timestamp, canonical))) });
    }
  });
  return out;
}

// HMAC-SHA256.
const HMAC_SECRET = 'whsec_acp_test_0123456789abcdef';
const hmac = {
  algorithm: 'HS256',
  secret_utf8: HMAC_SECRET,
  cases: cases((m) => crypto.createHmac('sha256', HMAC_SECRET).update(m).digest()),
};

// Ed25519: RFC 8032 §7.1 TEST 1 key.
const ED_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const edPrivate = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(ED_SEED, 'hex')]),
  format: 'der',
  type: 'pkcs8',
});
const edPublic = crypto.createPublicKey(edPrivate);
const edPublicRaw = edPublic.export({ format: 'der', type: 'spki' }).subarray(-32);
const edSign = (m) => {
  const sig = crypto.sign(null, m, edPrivate);
  if (!crypto.verify(null, m, edPublic, sig)) throw new Error('ed25519 self-check');
  return sig;
};
const ed25519 = {
  algorithm: 'Ed25519',
  seed_hex: ED_SEED,
  public_key_hex: edPublicRaw.toString('hex'),
  rfc8032_test1_empty_message_signature_hex: edSign(Buffer.alloc(0)).toString('hex'),
  cases: cases(edSign),
};

// ES256: RFC 6979 A.2.5 key.
const P256_D = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';
const ecdh = crypto.createECDH('prime256v1');
ecdh.setPrivateKey(Buffer.from(P256_D, 'hex'));
const point = ecdh.getPublicKey(); // 0x04 || x || y
const jwk = { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)), d: b64url(Buffer.from(P256_D, 'hex')) };
const esPrivate = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
const esPublic = crypto.createPublicKey(esPrivate);
const P1363 = { dsaEncoding: 'ieee-p1363' };
const esSign = (m) => {
  const sig = crypto.sign('sha256', m, { key: esPrivate, ...P1363 });
  if (!crypto.verify('sha256', m, { key: esPublic, ...P1363 }, sig)) throw new Error('es256 self-check');
  return sig;
};
// RFC 6979 A.2.5, SHA-256, message "sample".
const RFC6979_SAMPLE =
  'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716' +
  'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8';
if (!crypto.verify('sha256', Buffer.from('sample'), { key: esPublic, ...P1363 }, Buffer.from(RFC6979_SAMPLE, 'hex'))) {
  throw new Error('RFC 6979 sample vector does not verify');
}
const es256 = {
  algorithm: 'ES256',
  private_scalar_hex: P256_D,
  public_key_sec1_hex: point.toString('hex'),
  rfc6979_sample_signature_hex: RFC6979_SAMPLE,
  cases: cases(esSign),
};

for (const [name, data] of [['hmac_sha256', hmac], ['ed25519', ed25519], ['es256', es256]]) {
  fs.writeFileSync(path.join(__dirname, `signature_${name}.json`), JSON.stringify(data, null, 2) + '\n');
  console.log(`signature_${name}.json: ${data.cases.length} cases`);
}
