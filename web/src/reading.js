// What the page does to a drawing before and after the model reads it: the same steps, in the same order and
// with the same numbers, as hcr_utils does in Python (widget.render_strokes, preprocessing.prepare and
// rejection.unreadable), so that page and notebook read one drawing alike. No DOM here: Node runs it too.
// Pictures are row-major typed arrays; values are kept as float32 where NumPy, SciPy and Pillow keep them so.

const BOX = { support: 0.5, filter: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) };
const BICUBIC = {
  support: 2,
  filter: (x) => {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
};
const CONTRAST_MIN = 0.15; // below this spread of grey levels the picture is blank (preprocessing.ink_map)
const MNIST_BOX = 20; // MNIST fits the ink in 20×20 of its 28×28
const SIDE = 28;

/** The drawing holds no character: the message says what to do. */
export class BlankDrawing extends Error {}

/** A greyscale picture: `height`×`width` values, row after row. */
export class Picture {
  constructor(height, width, values = new Float32Array(height * width)) {
    this.height = height;
    this.width = width;
    this.values = values;
  }

  at(row, col) {
    return this.values[row * this.width + col];
  }

  max() {
    return this.values.reduce((best, value) => (value > best ? value : best), -Infinity);
  }
}

/** Python's round() and NumPy's: halves go to the even neighbour. */
export function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

// --- the pad's brush (widget.render_strokes) ------------------------------------------------------------------

// Pillow's rounding of halves: away from zero (up) and towards zero (down).
const roundUp = (v) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
const roundDown = (v) => Math.sign(v) * Math.ceil(Math.abs(v) - 0.5);

/**
 * Strokes ([[x, y], ...] in canvas pixels) as white round-brush lines on black: a size×size Uint8Array.
 * As Pillow draws them: coordinates truncated to whole pixels, each segment a quadrilateral filled row by row,
 * each joint and stroke end a disc of the brush's width (a pixel's centre is its index).
 */
export function renderStrokes(strokes, size, brushWidth) {
  const image = new Uint8Array(size * size);
  const span = (row, from, to) => {
    if (row < 0 || row >= size) return;
    for (let x = Math.max(0, from); x <= Math.min(size - 1, to); x++) image[row * size + x] = 255;
  };
  const disc = ([cx, cy], radius2) => {
    const reach = Math.floor(Math.sqrt(radius2));
    for (let dy = -reach; dy <= reach; dy++) {
      const half = Math.floor(Math.sqrt(radius2 - dy * dy));
      span(cy + dy, cx - half, cx + half);
    }
  };
  const quad = ([x0, y0], [x1, y1]) => {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const length = Math.hypot(dx, dy);
    const half = (brushWidth - 1) / 2;
    const [wide, narrow] = [roundUp(half) / length, roundDown(half) / length];
    const [dxMin, dxMax, dyMin, dyMax] = [roundDown(narrow * dy), roundDown(wide * dy), roundDown(narrow * dx),
      roundDown(wide * dx)];
    const corners = [[x0 - dxMin, y0 + dyMax], [x1 - dxMin, y1 + dyMax], [x1 + dxMax, y1 - dyMin],
      [x0 + dxMax, y0 - dyMin]];
    const rows = corners.map(([, y]) => y);
    for (let row = Math.min(...rows); row <= Math.max(...rows); row++) {
      let left = Infinity;
      let right = -Infinity;
      corners.forEach(([ax, ay], i) => {
        const [bx, by] = corners[(i + 1) % 4];
        if (row < Math.min(ay, by) || row > Math.max(ay, by)) return;
        const xs = ay === by ? [ax, bx] : [ax + ((row - ay) * (bx - ax)) / (by - ay)];
        for (const x of xs) {
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      });
      if (left <= right) span(row, roundUp(left), roundDown(right));
    }
  };
  const end = (brushWidth / 2) ** 2 + 10; // Pillow's ellipse in a (width + 1)-pixel box
  const joint = (brushWidth / 2 - 1) ** 2 + 10; // and a (width - 1)-pixel one at each joint
  for (const stroke of strokes) {
    const points = stroke.map(([x, y]) => [Math.trunc(x), Math.trunc(y)]);
    for (let i = 1; i < points.length; i++) {
      if (points[i][0] !== points[i - 1][0] || points[i][1] !== points[i - 1][1]) quad(points[i - 1], points[i]);
      if (i < points.length - 1) disc(points[i], joint);
    }
    disc(points[0], end);
    disc(points[points.length - 1], end);
  }
  return image;
}

// --- preprocessing.ink_map ---------------------------------------------------------------------------------------

/** NumPy's percentile (linear interpolation) of a picture's grey levels, from their `counts` and `shade`. */
function percentile(counts, shade, share) {
  const order = [...counts.keys()].sort((a, b) => shade[a] - shade[b]);
  const total = counts.reduce((a, b) => a + b, 0);
  const valueAt = (index) => {
    let seen = 0;
    for (const level of order) {
      seen += counts[level];
      if (seen > index) return shade[level];
    }
    return shade[order[order.length - 1]];
  };
  const position = share * (total - 1);
  const below = Math.floor(position);
  const low = valueAt(below);
  return low + (valueAt(Math.min(below + 1, total - 1)) - low) * (position - below);
}

/** The median of the picture's border (its four sides, corners twice): paper, in a picture of one character. */
function borderMedian(levels, size) {
  const border = [];
  for (let i = 0; i < size; i++) border.push(levels[i], levels[(size - 1) * size + i]);
  for (let i = 0; i < size; i++) border.push(levels[i * size], levels[i * size + size - 1]);
  border.sort((a, b) => a - b);
  return (border[border.length / 2 - 1] + border[border.length / 2]) / 2 / 255;
}

/**
 * The drawing (size×size uint8) as bright ink in [0, 1] on black, contrast stretched (preprocessing.ink_map):
 * a picture whose border is mostly light is taken for dark ink on paper and inverted.
 * @throws {BlankDrawing} when the drawing has no contrast.
 */
export function inkMap(image, size) {
  const inverted = borderMedian(image, size) > 0.5;
  const shade = Array.from({ length: 256 }, (_, level) => {
    const grey = Math.fround(level / 255);
    return inverted ? Math.fround(1 - grey) : grey;
  });
  const counts = new Array(256).fill(0);
  for (let i = 0; i < image.length; i++) counts[image[i]]++;
  const low = Math.fround(percentile(counts, shade, 0.01));
  const high = shade.reduce((best, grey, level) => (counts[level] && grey > best ? grey : best), 0);
  if (high - low < CONTRAST_MIN) throw new BlankDrawing("the picture is blank: draw a character");
  const spread = Math.fround(high - low);
  const stretched = shade.map((grey) => Math.min(1, Math.max(0, Math.fround(Math.fround(grey - low) / spread))));
  const ink = new Picture(size, size);
  for (let i = 0; i < image.length; i++) ink.values[i] = stretched[image[i]];
  return ink;
}

/** The smallest box around the values above `threshold`, or null when there are none. */
function boxAbove(picture, threshold) {
  const { height, width, values } = picture;
  let [top, bottom, left, right] = [height, -1, width, -1];
  for (let row = 0; row < height; row++) {
    for (let col = 0, i = row * width; col < width; col++, i++) {
      if (values[i] > threshold) {
        if (row < top) top = row;
        bottom = row;
        if (col < left) left = col;
        if (col > right) right = col;
      }
    }
  }
  return bottom < 0 ? null : { top, left, height: bottom - top + 1, width: right - left + 1 };
}

/**
 * The ink's box (preprocessing._ink_box) in a picture of `side` pixels at most a side (`picture` may be a part of it).
 * @throws {BlankDrawing} when there is no ink, or only a speck.
 */
function inkBox(picture, settings, side = Math.max(picture.height, picture.width)) {
  const box = boxAbove(picture, settings.ink_threshold);
  if (box === null) throw new BlankDrawing("the picture is blank: draw a character");
  if (Math.max(box.height, box.width) < settings.min_extent * side) {
    throw new BlankDrawing("the mark is too small to be a character: draw it bigger");
  }
  return box;
}

function crop(picture, box) {
  const out = new Picture(box.height, box.width);
  for (let row = 0; row < box.height; row++) {
    const start = (box.top + row) * picture.width + box.left;
    out.values.set(picture.values.subarray(start, start + box.width), row * box.width);
  }
  return out;
}

/** `picture` in the middle of a black side×side square (preprocessing._centre). */
function centre(picture, side) {
  const frame = new Picture(side, side);
  const top = Math.floor((side - picture.height) / 2);
  const left = Math.floor((side - picture.width) / 2);
  for (let row = 0; row < picture.height; row++) {
    frame.values.set(picture.values.subarray(row * picture.width, (row + 1) * picture.width),
      (top + row) * side + left);
  }
  return frame;
}

// --- scipy.ndimage.gaussian_filter (mode "reflect", truncate 4) --------------------------------------------------

function gaussianKernel(sigma) {
  const radius = Math.trunc(4 * sigma + 0.5);
  const factor = -0.5 / (sigma * sigma);
  const weights = [];
  for (let x = -radius; x <= radius; x++) weights.push(Math.exp(factor * x * x));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum).slice(radius); // symmetric: the centre and one side
}

/** One pass down the columns (axis 0) or across the rows (axis 1), mirror-reflecting at the edges as SciPy does. */
function blurAlong(picture, half, axis) {
  const { height, width, values } = picture;
  const out = new Picture(height, width);
  const reach = half.length - 1;
  const [lines, length, step, lineStep] = axis === 0 ? [width, height, width, 1] : [height, width, 1, width];
  const line = new Float64Array(length + 2 * reach);
  for (let l = 0; l < lines; l++) {
    for (let i = -reach; i < length + reach; i++) {
      const source = i < 0 ? -i - 1 : i >= length ? 2 * length - i - 1 : i;
      line[i + reach] = values[l * lineStep + source * step];
    }
    for (let i = 0; i < length; i++) {
      const centre = i + reach;
      let sum = line[centre] * half[0];
      for (let j = reach; j > 0; j--) sum += (line[centre - j] + line[centre + j]) * half[j];
      out.values[l * lineStep + i * step] = sum;
    }
  }
  return out;
}

/**
 * scipy.ndimage.gaussian_filter, on the part of the picture within reach of a non-zero value: elsewhere the
 * blur is exactly 0, and at the part's edges the mirrored values are the zeros (or the picture's edge) SciPy sees.
 */
function gaussianFilter(picture, sigma) {
  const half = gaussianKernel(sigma);
  const reach = half.length - 1;
  const ink = boxAbove(picture, 0);
  const top = Math.max(0, ink.top - reach);
  const left = Math.max(0, ink.left - reach);
  const part = { top, left, height: Math.min(picture.height, ink.top + ink.height + reach) - top,
    width: Math.min(picture.width, ink.left + ink.width + reach) - left };
  return blurAlong(blurAlong(crop(picture, part), half, 0), half, 1); // axis 0 first, as SciPy
}

// --- Pillow's Image.resize for mode "F" ---------------------------------------------------------------------------

function coefficients(inSize, outSize, kind) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kind.support * filterScale;
  return Array.from({ length: outSize }, (_, out) => {
    const center = (out + 0.5) * scale;
    const first = Math.max(0, Math.trunc(center - support + 0.5));
    const last = Math.min(inSize, Math.trunc(center + support + 0.5));
    const weights = [];
    for (let x = first; x < last; x++) weights.push(kind.filter((x - center + 0.5) / filterScale));
    const total = weights.reduce((a, b) => a + b, 0);
    return { first, weights: total === 0 ? weights : weights.map((w) => w / total) };
  });
}

/** Resize as Pillow does: across the rows first, then down the columns, float32 in between. */
function resize(picture, height, width, kind) {
  const across = new Picture(picture.height, width);
  const columns = coefficients(picture.width, width, kind);
  for (let row = 0; row < picture.height; row++) {
    columns.forEach(({ first, weights }, col) => {
      let sum = 0;
      weights.forEach((w, x) => { sum += picture.at(row, first + x) * w; });
      across.values[row * width + col] = sum;
    });
  }
  const out = new Picture(height, width);
  coefficients(picture.height, height, kind).forEach(({ first, weights }, row) => {
    for (let col = 0; col < width; col++) {
      let sum = 0;
      weights.forEach((w, y) => { sum += across.at(first + y, col) * w; });
      out.values[row * width + col] = sum;
    }
  });
  return out;
}

/** preprocessing._resize: Pillow's box filter when shrinking more than twice, else bicubic; clipped to [0, 1]. */
function shrinkTo(picture, height, width) {
  const shrink = picture.height > 2 * height || picture.width > 2 * width;
  const out = resize(picture, height, width, shrink ? BOX : BICUBIC);
  out.values = out.values.map((v) => Math.min(1, Math.max(0, v)));
  return out;
}

/** 255 × value / the brightest value, rounded as NumPy rounds float32: the 28×28 uint8 image. */
function toBytes(picture) {
  const brightest = Math.fround(Math.max(picture.max(), 1e-6));
  return Uint8Array.from(picture.values, (v) => roundHalfEven(Math.fround(Math.fround(255 * v) / brightest)));
}

// --- preprocessing.to_emnist and to_mnist ------------------------------------------------------------------------

/** EMNIST's conversion: blur (1/64 of the ink's larger side), crop, square, pad 2 of 28 pixels, 28×28. */
export function toEmnist(ink, settings) {
  const box = inkBox(ink, settings);
  const blurred = gaussianFilter(ink, Math.max(Math.max(box.height, box.width) / 64, 0.5));
  const cropped = crop(blurred, inkBox(blurred, settings, Math.max(ink.height, ink.width)));
  const larger = Math.max(cropped.height, cropped.width);
  const pad = roundHalfEven((larger * 2) / 24);
  return toBytes(shrinkTo(centre(cropped, larger + 2 * pad), SIDE, SIDE));
}

/** scipy.ndimage.shift with order 1 (bilinear) and zeros outside the picture. */
function shift(picture, down, right) {
  const out = new Picture(picture.height, picture.width);
  const value = (row, col) => (row < 0 || col < 0 || row >= picture.height || col >= picture.width
    ? 0 : picture.at(row, col));
  for (let row = 0; row < picture.height; row++) {
    for (let col = 0; col < picture.width; col++) {
      const y = row - down;
      const x = col - right;
      if (y < 0 || x < 0 || y > picture.height - 1 || x > picture.width - 1) continue;
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const fy = y - y0;
      const fx = x - x0;
      out.values[row * picture.width + col] = (1 - fy) * ((1 - fx) * value(y0, x0) + fx * value(y0, x0 + 1))
        + fy * ((1 - fx) * value(y0 + 1, x0) + fx * value(y0 + 1, x0 + 1));
    }
  }
  return out;
}

/** MNIST's conversion: fit the ink in 20×20, then put its centre of mass at the centre of 28×28. */
export function toMnist(ink, settings) {
  const cropped = crop(ink, inkBox(ink, settings));
  const scale = MNIST_BOX / Math.max(cropped.height, cropped.width);
  const fitted = shrinkTo(cropped, Math.max(1, roundHalfEven(cropped.height * scale)),
    Math.max(1, roundHalfEven(cropped.width * scale)));
  const frame = centre(fitted, SIDE);
  let mass = 0;
  let rows = 0;
  let cols = 0;
  frame.values.forEach((v, i) => {
    mass += v;
    rows += v * Math.floor(i / SIDE);
    cols += v * (i % SIDE);
  });
  mass = Math.fround(mass);
  const middle = (SIDE - 1) / 2;
  return toBytes(shift(frame, middle - rows / mass, middle - cols / mass));
}

/**
 * The 28×28 uint8 image the model sees, for `settings.dataset` ("emnist" or "mnist").
 * @throws {BlankDrawing} no character to read.
 */
export function prepare(ink, settings) {
  return settings.dataset === "mnist" ? toMnist(ink, settings) : toEmnist(ink, settings);
}

// --- rejection.features and unreadable ---------------------------------------------------------------------------

/**
 * Squared distance to the nearest zero along one line of `grid` (n cells from `offset`, `stride` apart), in
 * place: the exact lower envelope of parabolas (Felzenszwalb and Huttenlocher). The line must hold a zero.
 */
function distanceLine(grid, offset, stride, n, buffers) {
  const { f, sites, bounds } = buffers;
  for (let q = 0; q < n; q++) f[q] = grid[offset + q * stride];
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    let s = -Infinity;
    while (k >= 0) {
      const p = sites[k];
      s = (f[q] + q * q - f[p] - p * p) / (2 * (q - p));
      if (s > bounds[k]) break;
      k--;
    }
    k++;
    sites[k] = q;
    bounds[k] = k === 0 ? -Infinity : s;
  }
  bounds[k + 1] = Infinity;
  for (let q = 0, j = 0; q < n; q++) {
    while (bounds[j + 1] < q) j++;
    const d = q - sites[j];
    grid[offset + q * stride] = d * d + f[sites[j]];
  }
}

/** Squared Euclidean distance of every cell of a 0/1 grid (with a border of 0s) to the nearest 0. */
function squaredDistances(mask, height, width) {
  const grid = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) grid[i] = mask[i] ? Infinity : 0;
  const longest = Math.max(height, width);
  const buffers = { f: new Float64Array(longest), sites: new Int32Array(longest), bounds: new Float64Array(longest + 1) };
  for (let col = 0; col < width; col++) distanceLine(grid, col, width, height, buffers);
  for (let row = 0; row < height; row++) distanceLine(grid, row * width, 1, width, buffers);
  return grid;
}

/**
 * What the refusal rule looks at: the probability in the three best guesses, and the shape of the ink
 * (the share deep inside filled areas; width over height).
 */
export function features(probabilities, ink, settings) {
  const box = boxAbove(ink, settings.ink_threshold);
  if (box === null) throw new BlankDrawing("the picture is blank: draw a character");
  const height = box.height + 2;
  const width = box.width + 2;
  const mask = new Uint8Array(height * width);
  for (let row = 0; row < box.height; row++) {
    for (let col = 0; col < box.width; col++) {
      mask[(row + 1) * width + col + 1] = ink.values[(box.top + row) * ink.width + box.left + col] > settings.ink_threshold ? 1 : 0;
    }
  }
  const squared = squaredDistances(mask, height, width); // ndimage.distance_transform_edt, squared
  const deep = settings.refusal.solid_depth * Math.max(box.height, box.width);
  let inked = 0;
  let solid = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      inked++;
      if (Math.sqrt(squared[i]) > deep) solid++;
    }
  }
  const ranked = Array.from(probabilities).sort((a, b) => b - a);
  return { top3: ranked[0] + (ranked[1] ?? 0) + (ranked[2] ?? 0), solid: solid / inked, aspect: box.width / box.height };
}

/** Why the drawing cannot be read as one character, or null when it can. */
export function unreadable(found, settings) {
  const { refusal } = settings;
  if (found.solid > refusal.max_solid) return refusal.reasons.solid;
  if (found.aspect > refusal.max_aspect) return refusal.reasons.aspect;
  if (found.top3 < refusal.min_top3) return refusal.reasons.top3;
  return null;
}

/** Which classes may be answered: "digits" or "letters" (inference.ALLOWED). */
export function allowedMask(classes, allowed) {
  const tests = { digits: (c) => /^\p{Nd}$/u.test(c), letters: (c) => /^\p{L}$/u.test(c) };
  return classes.map(tests[allowed]);
}

/** The probabilities with the classes not allowed set to 0 and the rest rescaled to sum to 1. */
export function restrict(probabilities, mask) {
  const masked = Array.from(probabilities, (p, i) => (mask[i] ? p : 0));
  const total = Math.max(masked.reduce((a, b) => a + b, 0), 1e-12);
  return masked.map((p) => p / total);
}

/** The `k` likeliest classes, best first, leaving out those of probability 0. */
export function ranked(probabilities, classes, k) {
  return Array.from(probabilities, (p, i) => [classes[i], p])
    .filter(([, p]) => p > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
}
