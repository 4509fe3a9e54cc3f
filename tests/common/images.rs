//! Deterministic test images: docs-style screenshots (flat UI colours, text-like glyph runs,
//! tables, a terminal, a gradient) and photo-like images (smooth light plus noise, far more
//! than 65,536 colours). The same seed always gives the same pixels, so tests and the benchmark
//! need no committed binaries. Shared by `tests/images.rs` and `benches/images.rs`.

#![allow(dead_code)]

use image::{Rgb, RgbImage};

/// A small, fast, deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() % n.max(1) as u64) as u32
    }
}

fn fill(img: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, c: [u8; 3]) {
    for y in y0..(y0 + h).min(img.height()) {
        for x in x0..(x0 + w).min(img.width()) {
            img.put_pixel(x, y, Rgb(c));
        }
    }
}

/// Lines of "text": runs of glyph-sized blocks with gaps, in a few colours.
fn text(img: &mut RgbImage, rng: &mut Rng, x0: u32, y0: u32, w: u32, h: u32, colors: &[[u8; 3]]) {
    if x0 >= img.width() || y0 >= img.height() {
        return;
    }
    let hole = img.get_pixel(x0, y0).0;
    let mut y = y0 + 6;
    while y + 10 < y0 + h {
        let mut x = x0 + 8;
        let end = x0 + w.saturating_sub(8 + rng.below(w / 3 + 1));
        let color = colors[rng.below(colors.len() as u32) as usize];
        while x + 8 < end {
            let word = 3 + rng.below(8);
            for _ in 0..word {
                let gw = 4 + rng.below(3);
                let gh = 6 + rng.below(4);
                // A glyph: a block with a hole, so edges look like letters'.
                fill(img, x, y + 10 - gh, gw, gh, color);
                if gw > 4 {
                    fill(img, x + 1, y + 11 - gh + 2, gw - 2, 2, hole);
                }
                x += gw + 1;
            }
            x += 5;
        }
        y += 16;
    }
}

/// A docs-style UI screenshot, `w` x `h`, light or dark by seed.
pub fn screenshot(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng::new(seed);
    let dark = seed.is_multiple_of(3);
    let (bg, fg, panel, accent) = if dark {
        ([24, 26, 31], [220, 223, 228], [36, 39, 46], [88, 166, 255])
    } else {
        (
            [255, 255, 255],
            [36, 41, 47],
            [246, 248, 250],
            [9, 105, 218],
        )
    };
    let mut img = RgbImage::from_pixel(w, h, Rgb(bg));
    // Header bar and sidebar.
    fill(&mut img, 0, 0, w, 48, panel);
    text(&mut img, &mut rng, 0, 12, w / 3, 30, &[fg]);
    let side = w / 5;
    fill(&mut img, 0, 48, side, h.saturating_sub(48), panel);
    text(
        &mut img,
        &mut rng,
        0,
        60,
        side,
        h.saturating_sub(60),
        &[fg, accent],
    );
    // Body text.
    let body_w = w - side;
    text(
        &mut img,
        &mut rng,
        side,
        60,
        body_w,
        h / 3,
        &[fg, fg, accent],
    );
    // A table with grid lines.
    let ty = 60 + h / 3;
    let th = h / 4;
    for r in 0..6u32 {
        fill(
            &mut img,
            side + 16,
            ty + r * th / 6,
            body_w.saturating_sub(32),
            1,
            [208, 215, 222],
        );
    }
    for c in 0..4u32 {
        fill(
            &mut img,
            side + 16 + c * (body_w.saturating_sub(32)) / 4,
            ty,
            1,
            th,
            [208, 215, 222],
        );
    }
    text(
        &mut img,
        &mut rng,
        side + 16,
        ty,
        body_w.saturating_sub(32),
        th,
        &[fg],
    );
    // A terminal with coloured output.
    let ty2 = ty + th + 12;
    if ty2 + 40 < h {
        let th2 = (h - ty2).saturating_sub(60).max(30);
        fill(
            &mut img,
            side + 16,
            ty2,
            body_w.saturating_sub(32),
            th2,
            [13, 17, 23],
        );
        text(
            &mut img,
            &mut rng,
            side + 16,
            ty2,
            body_w.saturating_sub(32),
            th2,
            &[
                [126, 231, 135],
                [201, 209, 217],
                [255, 166, 87],
                [121, 192, 255],
            ],
        );
    }
    // A gradient button (a few hundred colours, as UI gradients have).
    let bx = w.saturating_sub(180);
    for y in 8..40u32 {
        for x in bx..bx.saturating_add(160).min(w) {
            if y >= h {
                break;
            }
            let t = (x - bx) as f32 / 160.0;
            img.put_pixel(
                x,
                y,
                Rgb([
                    (accent[0] as f32 * (1.0 - t) + 140.0 * t) as u8,
                    (accent[1] as f32 * (1.0 - t) + 80.0 * t) as u8,
                    (accent[2] as f32 * (1.0 - t) + 200.0 * t) as u8,
                ]),
            );
        }
    }
    img
}

/// A photo-like image: smooth lighting, colour fields and sensor noise.
pub fn photo(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng::new(seed ^ 0xABCD);
    let (fx, fy) = (1.0 + (seed % 5) as f32, 1.0 + (seed % 3) as f32);
    RgbImage::from_fn(w, h, |x, y| {
        let u = x as f32 / w as f32;
        let v = y as f32 / h as f32;
        let base = [
            120.0 + 90.0 * (u * fx * 3.1).sin() * (v * 2.0).cos(),
            110.0 + 80.0 * (v * fy * 2.7).sin(),
            100.0 + 70.0 * ((u + v) * 4.3).cos(),
        ];
        let mut px = [0u8; 3];
        for (c, b) in px.iter_mut().zip(base) {
            let noise = rng.below(17) as f32 - 8.0;
            *c = (b + noise).clamp(0.0, 255.0) as u8;
        }
        Rgb(px)
    })
}

/// PNG bytes of an image.
pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// The benchmark's set: sizes of docs screenshots, 800x500 to 2400x1500.
pub fn screenshot_size(i: u64) -> (u32, u32) {
    let sizes = [
        (800, 500),
        (1200, 750),
        (1440, 900),
        (1600, 1000),
        (1920, 1200),
        (2400, 1500),
    ];
    sizes[(i as usize) % sizes.len()]
}

/// A baseline JPEG with four components stored as Adobe writes CMYK (inverted: 255 is no
/// ink), made of flat 8x8 blocks so that only DC coefficients are needed. `ink(bx, by)` gives
/// each block's C, M, Y, K ink in 0..=255. Written by hand because no encoder we depend on
/// writes CMYK.
pub fn cmyk_jpeg(blocks_x: u16, blocks_y: u16, ink: impl Fn(u16, u16) -> [u8; 4]) -> Vec<u8> {
    fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
        out.extend([0xFF, marker]);
        out.extend(((body.len() + 2) as u16).to_be_bytes());
        out.extend(body);
    }
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, len: u32) {
            for i in (0..len).rev() {
                self.acc = self.acc << 1 | (value >> i & 1);
                self.n += 1;
                if self.n == 8 {
                    let byte = self.acc as u8;
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                    self.acc = 0;
                    self.n = 0;
                }
            }
        }
    }
    let mut out = vec![0xFF, 0xD8];
    // Adobe APP14, transform 0: the components are CMYK as they are (no YCCK).
    segment(&mut out, 0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00");
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    segment(&mut out, 0xDB, &dqt);
    let (w, h) = (blocks_x * 8, blocks_y * 8);
    let mut sof = vec![8];
    sof.extend(h.to_be_bytes());
    sof.extend(w.to_be_bytes());
    sof.push(4);
    for id in 1..=4 {
        sof.extend([id, 0x11, 0]);
    }
    segment(&mut out, 0xC0, &sof);
    // DC table: the 12 size categories, each a 4-bit code equal to the category.
    let mut dht = vec![0x00];
    let mut counts = [0u8; 16];
    counts[3] = 12;
    dht.extend(counts);
    dht.extend(0..12u8);
    segment(&mut out, 0xC4, &dht);
    // AC table: end-of-block only, code `0`.
    let mut dht = vec![0x10];
    let mut counts = [0u8; 16];
    counts[0] = 1;
    dht.extend(counts);
    dht.push(0);
    segment(&mut out, 0xC4, &dht);
    let mut sos = vec![4];
    for id in 1..=4 {
        sos.extend([id, 0x00]);
    }
    sos.extend([0, 63, 0]);
    segment(&mut out, 0xDA, &sos);
    let mut bits = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    let mut previous = [0i32; 4];
    for by in 0..blocks_y {
        for bx in 0..blocks_x {
            let ink = ink(bx, by);
            for c in 0..4 {
                // Stored inverted; a flat block's DC is 8 x (sample - 128).
                let dc = 8 * (255 - ink[c] as i32 - 128);
                let diff = dc - previous[c];
                previous[c] = dc;
                let size = 32 - diff.unsigned_abs().leading_zeros();
                bits.put(size, 4);
                let extra = if diff < 0 { diff - 1 } else { diff };
                bits.put(extra as u32 & ((1 << size) - 1), size);
                bits.put(0, 1);
            }
        }
    }
    if bits.n > 0 {
        let pad = 8 - bits.n;
        bits.put((1 << pad) - 1, pad);
    }
    out.extend(bits.out);
    out.extend([0xFF, 0xD9]);
    out
}
