// Generates tests/vectors/jcs_objects.jsonl: one `{"input": <JSON text>, "expected": <JCS>}`
// per line. Inputs are random documents written with random member order, random whitespace,
// random `\u` escapes (surrogate pairs for astral characters) and random number spellings;
// `expected` comes from the ECMAScript reference canonicalizer in jcs.js.
// Run from the repository root: `node tests/vectors/gen_jcs_objects.js`.
'use strict';
const fs = require('fs');
const path = require('path');
const { jcs, prng } = require('./jcs.js');

const rand = prng(20151118);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const int = (n) => Math.floor(rand() * n);

// Characters chosen to stress UTF-16 ordering and escaping: ASCII, controls, quote and
// backslash, Latin-1, BMP above the surrogate range (sorts after astral in UTF-16), astral.
const ALPHABET = [
  'a', 'b', 'z', 'A', 'Z', '0', '9', '_', ' ', '-', '.', '/', '"', '\\', '\n', '\r', '\t', '\b',
  '\f', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u00e9', '\u00ff', '\u0100', '\u20ac',
  '\u2028', '\u2029', '\ud7ff', '\ue000', '\ufb33', '\ufeff', '\uffff', '\ud83d\ude00',
  '\ud800\udc00', '\udbff\udfff', '\ud834\udd1e', '\u05d0', '\u4e2d',
];
function randString(max) {
  let s = '';
  const n = int(max + 1);
  for (let i = 0; i < n; i++) s += pick(ALPHABET);
  return s;
}
const buf = new DataView(new ArrayBuffer(8));
function randNumber() {
  switch (int(6)) {
    case 0: return int(1000) - 500;
    case 1: return int(100000000) / 100;
    case 2: return pick([0, -0, 1e21, 1e-7, 1e-6, 9007199254740993, 5e-324, 1.7976931348623157e308,
      0.1, 123.456, -1.5e300, 295147905179352830000, 2 ** 53 - 1]);
    case 3: return Number((rand() * 2 - 1).toFixed(1 + int(16)) + 'e' + (int(60) - 30));
    default: {
      let x;
      do {
        buf.setUint32(0, Math.floor(rand() * 4294967296));
        buf.setUint32(4, Math.floor(rand() * 4294967296));
        x = buf.getFloat64(0);
      } while (!Number.isFinite(x));
      return x;
    }
  }
}
function randValue(depth) {
  const r = rand();
  if (depth > 3 || r < 0.45) {
    switch (int(6)) {
      case 0: return null;
      case 1: return rand() < 0.5;
      case 2: case 3: return randNumber();
      default: return randString(6);
    }
  }
  if (r < 0.7) {
    const n = int(5);
    const a = [];
    for (let i = 0; i < n; i++) a.push(randValue(depth + 1));
    return a;
  }
  const o = {};
  const n = int(6);
  for (let i = 0; i < n; i++) o[rand() < 0.3 ? String(int(20)) : randString(4)] = randValue(depth + 1);
  return o;
}

// Writers producing non-canonical but equivalent JSON text.
const ws = () => pick(['', '', ' ', '\n', '\t', '\r\n  ']);
function writeString(s) {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    const escape = rand() < 0.25;
    if (ch === '"' || ch === '\\' || cp < 0x20 || escape) {
      if (!escape && (ch === '"' || ch === '\\')) { out += '\\' + ch; continue; }
      if (!escape && ch === '\n') { out += '\\n'; continue; }
      if (ch === '/' && rand() < 0.5) { out += '\\/'; continue; }
      for (let i = 0; i < ch.length; i++) {
        const hex = ch.charCodeAt(i).toString(16).padStart(4, '0');
        out += '\\u' + (rand() < 0.5 ? hex : hex.toUpperCase());
      }
    } else {
      out += ch;
    }
  }
  return out + '"';
}
function writeNumber(x) {
  const forms = [JSON.stringify(x), x.toExponential(), x.toExponential().toUpperCase()];
  if (Number.isInteger(x) && Math.abs(x) < 1e15) forms.push(String(x) + '.0', String(x) + '.000', String(x) + 'e0');
  if (Object.is(x, -0)) forms.push('-0', '-0.0', '-0e5');
  return pick(forms).replace('e+', pick(['e+', 'e', 'E+']));
}
function write(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return writeNumber(v);
  if (typeof v === 'string') return writeString(v);
  if (Array.isArray(v)) return '[' + ws() + v.map((x) => write(x) + ws()).join(',' + ws()) + ']';
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) { const j = int(i + 1); [keys[i], keys[j]] = [keys[j], keys[i]]; }
  return '{' + ws() + keys.map((k) => writeString(k) + ws() + ':' + ws() + write(v[k]) + ws()).join(',' + ws()) + '}';
}

const lines = [];
for (let i = 0; i < 600; i++) {
  const v = i < 500 ? randValue(0) : (() => { const o = {}; for (let j = 0; j < 12; j++) o[randString(3)] = randValue(2); return o; })();
  const input = ws() + write(v) + ws();
  if (jcs(JSON.parse(input)) !== jcs(v)) throw new Error('writer bug: ' + input);
  lines.push(JSON.stringify({ input, expected: jcs(v) }));
}
fs.writeFileSync(path.join(__dirname, 'jcs_objects.jsonl'), lines.join('\n') + '\n');
console.log(lines.length + ' documents');
