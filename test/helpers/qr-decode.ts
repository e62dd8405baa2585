// Reads a QR code drawn as SVG by the page (the `qrcode` library's form: one stroked path of
// horizontal runs, "M x y.5 h n m dx dy h n …", one unit per module) the way a phone's camera
// would: the path is drawn into pixels and decoded by an independent decoder (jsQR).
import jsQRModule from 'jsqr';

// jsQR is CommonJS with a `default` property: under Node's ESM interop the import is its exports object.
const jsQR = (jsQRModule as unknown as { default: typeof jsQRModule.default }).default;

const SCALE = 6;

/** The text a QR code in SVG carries, or undefined when it cannot be read. */
export function decodeQrSvg(svg: string): string | undefined {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const path = /<path[^>]*stroke="[^"]+"[^>]*\sd="([^"]+)"/.exec(svg);
  if (!viewBox || !path) return undefined;
  const size = Number(viewBox[1]);
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of path[1]!.matchAll(/([MmHh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?/g)) {
    const n = Number(a);
    if (op === 'M') [x, y] = [n, Number(b)];
    else if (op === 'm') [x, y] = [x + n, y + Number(b)];
    else {
      const end = op === 'h' ? x + n : n;
      for (let col = x; col < end; col++) dark.add(`${col},${Math.floor(y)}`);
      x = end;
    }
  }
  const width = size * SCALE;
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      if (!dark.has(`${Math.floor(px / SCALE)},${Math.floor(py / SCALE)}`)) continue;
      const at = (py * width + px) * 4;
      pixels[at] = pixels[at + 1] = pixels[at + 2] = 0;
    }
  }
  return jsQR(pixels, width, width)?.data;
}
