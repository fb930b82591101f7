// Generates tests/vectors/jcs_numbers.txt: `<16 hex digits of the IEEE-754 bits> <Number::toString>`.
// Run from the repository root: `node tests/vectors/gen_jcs_numbers.js`.
'use strict';
const fs = require('fs');
const path = require('path');
const { prng } = require('./jcs.js');

const rand = prng(8785);
const buf = new DataView(new ArrayBuffer(8));
const seen = new Set();
const lines = [];

function fromBits(hi, lo) {
  buf.setUint32(0, hi >>> 0);
  buf.setUint32(4, lo >>> 0);
  return buf.getFloat64(0);
}
function bitsOf(x) {
  buf.setFloat64(0, x);
  return buf.getUint32(0).toString(16).padStart(8, '0') + buf.getUint32(4).toString(16).padStart(8, '0');
}
function add(x) {
  if (!Number.isFinite(x)) return;
  const bits = bitsOf(x);
  if (seen.has(bits)) return;
  seen.add(bits);
  lines.push(bits + ' ' + String(x));
}
const u32 = () => Math.floor(rand() * 4294967296);

// RFC 8785 Appendix B and friends.
[0, -0, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 9007199254740992,
  -9007199254740992, 295147905179352830000, 9.999999999999997e22, 1e23, 1.0000000000000001e23,
  1e21, 999999999999999900000, 999999999999999700000, 1e-7, 0.000001, 9.999999999999999e-7,
  333333333.3333333, 3.3333333333333335e-7, 0.1, 0.2, 0.30000000000000004, 1, 1.5, 100, 1e20,
  2.2250738585072014e-308, 2.225073858507201e-308, 4.4501477170144023e-308, 4.35, 0.0045,
  123456789012345680000, 1e22, 1.2e22, 5e-7, 4.9e-7, 9.5367431640625e-7, 1e-6, 1.5e-6
].forEach(add);

// Every binary exponent: the power of two and a random mantissa (random sign); every fourth
// exponent (and the extremes) also the largest mantissa and the power of two's successor.
for (let e = 0; e < 2047; e++) {
  const hi = e << 20;
  add(fromBits(hi, 0));
  const r = fromBits(hi | (u32() & 0xfffff), u32());
  add(rand() < 0.5 ? r : -r);
  if (e % 4 === 0 || e < 8 || e > 2038) {
    add(fromBits(hi | 0xfffff, 0xffffffff));
    add(fromBits(hi, 1));
  }
}

// Powers of ten and their neighbours, across the whole range and both notations.
for (let p = -325; p <= 308; p++) {
  const x = Number('1e' + p);
  add(x);
  buf.setFloat64(0, x);
  if (x > 0 && x < Infinity) {
    const hi = buf.getUint32(0), lo = buf.getUint32(4);
    add(fromBits(hi, lo + 1));
    if (lo > 0) add(fromBits(hi, lo - 1));
  }
  add(Number((1 + Math.floor(rand() * 9999)) + 'e' + p));
}

// Integers near 2^53 and near 1e21 (the notation switch).
for (let d = -20; d <= 20; d++) {
  add(9007199254740992 + d * 2);
  add(-(9007199254740992 + d));
  add(1e21 + d * 131072);
}

// Exact ties: values like 1424953923781206.25 sit exactly halfway between two shortest
// 17-digit candidates; ECMA-262 picks the even one.
for (let i = 0; i < 100; i++) {
  const base = 1e15 + Math.floor(rand() * 1.2e15);
  add(base + pick4());
  add(-(base + 0.25));
}
function pick4() { return [0.25, 0.75][Math.floor(rand() * 2)]; }

// Short decimals (the common case for money-like data) and random doubles.
for (let i = 0; i < 300; i++) {
  add(Math.floor(rand() * 1e6) / 100);
  add(Number((rand() * 1000).toFixed(1 + Math.floor(rand() * 8))));
  add(fromBits(u32() & 0x7fefffff, u32()));
  add(Number('0.' + Math.floor(rand() * 1e9) + 'e-' + Math.floor(rand() * 12)));
}

fs.writeFileSync(path.join(__dirname, 'jcs_numbers.txt'), lines.join('\n') + '\n');
console.log(lines.length + ' numbers');
