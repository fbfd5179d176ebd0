/**
 * Small real PNG files for upload tests, made here (no image library): 8-bit RGB, one IDAT.
 *
 *   makePng(160, 90, (x, y) => [r, g, b])
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

export function makePng(width, height, pixel) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    rows[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      rows.set([r, g, b], row + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 320×180 diagonal indigo-to-amber gradient with a light sun: looks like a thumbnail. */
export function thumbnailPng(width = 320, height = 180) {
  return makePng(width, height, (x, y) => {
    const t = (x / width + y / height) / 2;
    const sun = (x - width * 0.72) ** 2 + (y - height * 0.38) ** 2 < (height * 0.18) ** 2;
    if (sun) return [255, 244, 214];
    return [Math.round(79 + t * 170), Math.round(70 + t * 110), Math.round(229 - t * 160)];
  });
}

/** A 128×128 round-ish face for a profile picture. */
export function avatarPng(size = 128) {
  return makePng(size, size, (x, y) => {
    const c = size / 2;
    const d = Math.hypot(x - c, y - c);
    if (d < size * 0.22 && y < c) return [253, 224, 71];
    if (d < size * 0.42) return [129, 140, 248];
    return [238, 242, 255];
  });
}
