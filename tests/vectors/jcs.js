// Reference RFC 8785 (JCS) canonicalizer in ECMAScript, used only to generate test vectors.
// JSON.stringify serializes numbers (Number::toString) and strings exactly as RFC 8785
// requires; the default Array.prototype.sort orders member names by UTF-16 code units.
'use strict';

function jcs(value) {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map(jcs).join(',') + ']';
  }
  return '{' + Object.keys(value).sort()
    .map((k) => JSON.stringify(k) + ':' + jcs(value[k]))
    .join(',') + '}';
}

// Deterministic PRNG (mulberry32) so generated vector files are reproducible.
function prng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { jcs, prng };
