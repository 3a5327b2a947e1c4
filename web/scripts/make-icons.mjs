// Draws the app icons (a white speech bubble on Sodam teal) as PNGs with no image library:
// pixels computed here, encoded with zlib. Run `npm run icons` after changing the design.
import { writeFileSync, mkdirSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { resolve } from "node:path";

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
function icon(size, { maskable }) {
  const s = size;
  const radius = maskable ? 0 : s * 0.22;
  const scale = maskable ? 0.78 : 1;
  return png(s, (x, y) => {
    // rounded square background
    const inset = (v) => Math.max(radius - v, 0, v - (s - radius));
    const dx = inset(x), dy = inset(y);
    if (radius > 0 && dx * dx + dy * dy > radius * radius) return [0, 0, 0, 0];
    const cx = s / 2, cy = s * 0.46;
    const rx = s * 0.32 * scale, ry = s * 0.25 * scale;
    const e = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
    // the bubble's tail: a small triangle below-left
    const tx = x - (cx - rx * 0.45), ty = y - (cy + ry * 0.7);
    const tail = ty >= 0 && ty < s * 0.12 * scale && tx > -s * 0.02 && tx < s * 0.1 * scale - ty * 0.9;
    if (e <= 1 || tail) return [0xff, 0xff, 0xff, 255];
    return [0x1f, 0x9e, 0x8f, 255];
  });
}
const dir = resolve(import.meta.dirname, "../public/icons");
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, "icon-192.png"), icon(192, { maskable: false }));
writeFileSync(resolve(dir, "icon-512.png"), icon(512, { maskable: false }));
writeFileSync(resolve(dir, "icon-maskable-512.png"), icon(512, { maskable: true }));
console.log("icons written to", dir);
