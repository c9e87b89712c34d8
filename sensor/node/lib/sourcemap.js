'use strict';
// Source maps (version 3) of compiled modules: finding a module's map (a
// `//# sourceMappingURL=` comment naming a file or a data: URL), and decoding its mappings.
// Small on purpose: the sensor package has no dependencies.
const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

// The mappings as one array per generated line of [genCol, source, line, col] segments
// (segments without a source are dropped), each line sorted by genCol. Throws on bad VLQ.
function decode(mappings) {
  const lines = [];
  let line = [], gen = 0, src = 0, ol = 0, oc = 0;
  const vals = [];
  let i = 0;
  const n = mappings.length;
  while (i <= n) {
    const ch = i < n ? mappings.charCodeAt(i) : 59; // the end closes the last line
    if (ch === 59 || ch === 44) { // ';' or ','
      if (vals.length === 1) gen += vals[0];
      else if (vals.length >= 4) {
        gen += vals[0];
        src += vals[1];
        ol += vals[2];
        oc += vals[3];
        line.push([gen, src, ol, oc]);
      } else if (vals.length) throw new Error('bad source map segment');
      vals.length = 0;
      if (ch === 59) {
        line.sort((a, b) => a[0] - b[0]);
        lines.push(line);
        line = [];
        gen = 0;
      }
      i++;
      continue;
    }
    let v = 0, shift = 0, d;
    do {
      const c = i < n ? mappings.charCodeAt(i++) : -1;
      d = c >= 0 && c < 128 ? B64[c] : -1;
      if (d < 0 || shift > 30) throw new Error('bad source map VLQ');
      v += (d & 31) * 2 ** shift;
      shift += 5;
    } while (d & 32);
    vals.push(v % 2 ? -(v - 1) / 2 : v / 2);
  }
  return lines;
}

// Index of the first segment of generated LINE at or after COL (binary search).
function lowerBound(segs, col) {
  let lo = 0, hi = segs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid][0] < col) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The segment that starts exactly at generated LINE, COL (0-based, UTF-16), or null.
function exact(lines, line, col) {
  const segs = lines[line] || [];
  const i = lowerBound(segs, col);
  return i < segs.length && segs[i][0] === col ? segs[i] : null;
}

// The first segment of LINE at or after COL, or null.
function from(lines, line, col) {
  const segs = lines[line] || [];
  return segs[lowerBound(segs, col)] || null;
}

// The last segment of LINE at or before COL, or null.
function before(lines, line, col) {
  const segs = lines[line] || [];
  const i = lowerBound(segs, col + 1);
  return i > 0 ? segs[i - 1] : null;
}

const URL_RE = /\/[*/][#@]\s*sourceMappingURL=([^\s'"*]+)\s*(?:\*\/)?\s*$/;

// The source map of SOURCE, the text of FILE: {map, dir} (dir resolves its sources), or null
// when it has none or it cannot be read or parsed.
function load(source, file) {
  const tail = source.slice(Math.max(0, source.lastIndexOf('sourceMappingURL=') - 4));
  const m = URL_RE.exec(tail);
  if (!m) return null;
  const url = m[1];
  let text, dir = path.dirname(file);
  try {
    if (url.startsWith('data:')) {
      const comma = url.indexOf(',');
      const meta = url.slice(5, comma);
      const body = url.slice(comma + 1);
      text = /;base64$/.test(meta) ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
    } else {
      const p = url.startsWith('file:') ? fileURLToPath(url) : path.resolve(dir, decodeURIComponent(url));
      text = fs.readFileSync(p, 'utf8');
      dir = path.dirname(p);
    }
    const map = JSON.parse(text);
    if (map.version !== 3 || !Array.isArray(map.sources) || typeof map.mappings !== 'string') return null;
    return { map, dir };
  } catch {
    return null;
  }
}

// The file name of source I of MAP (found in DIR), resolved against its sourceRoot.
function sourcePath(map, dir, i) {
  let s = map.sources[i];
  if (typeof s !== 'string') return null;
  if (s.startsWith('file:')) return fileURLToPath(s);
  const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
  if (root.startsWith('file:')) return path.resolve(fileURLToPath(root), s);
  return path.resolve(dir, root, s);
}

module.exports = { decode, exact, from, before, load, sourcePath };
