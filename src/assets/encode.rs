//! Decoding, resizing and encoding one image: the choices that make its outputs.
//!
//! The rule, measured on real browser screenshots and generated photos (see the README's image
//! section and `benches/images.rs`), is to spend an encode only where it can win:
//!
//! - a WebP source is published at full size as its own bytes, never decoded for that; its
//!   resized copies are lossy when it is lossy;
//! - a JPEG, or any image with more than `[images] photo_colors` colours, is lossy throughout;
//! - a lossless screenshot (PNG, still GIF, lossless WebP) is encoded lossless at full size,
//!   unless a sample of its rows encoded both ways says lossy is clearly under
//!   `[images] lossy_ratio` of lossless (then lossy alone); only a sample in between encodes the
//!   whole image both ways;
//! - a screenshot's resized copy is lossy (shrinking blurs edges into many colours), and also
//!   lossless only when the copy still has few colours, where lossless can win.
//!
//! Each image is decoded once and its outputs made one after another on the calling thread:
//! callers run images in parallel, one per worker, so memory holds at most one image per worker.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::{Format, Planned, Problem};
use crate::config::ImageOptions;

/// How many times an animated GIF plays, in WebP's terms (0: forever), from its NETSCAPE2.0
/// extension; a GIF without one plays once.
pub(super) fn gif_loops(bytes: &[u8]) -> i32 {
    let Some(i) = bytes.windows(11).position(|w| w == b"NETSCAPE2.0") else {
        return 1;
    };
    match bytes.get(i + 11..i + 15) {
        Some([3, 1, lo, hi]) => i32::from(u16::from_le_bytes([*lo, *hi])),
        _ => 0,
    }
}

/// An animated GIF as animated lossless WebP, or `None` when that would not be smaller or
/// would not play the same: libwebp merges identical frames, and the `webp` crate (0.3) gives
/// the last frame the average duration of the others.
pub(super) fn encode_animation(bytes: &[u8], o: &ImageOptions) -> Result<Option<Vec<u8>>, Problem> {
    use image::AnimationDecoder;
    let fail = |e: &dyn std::fmt::Display| Problem::Bad(format!("it cannot be decoded ({e})"));
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(|e| fail(&e))?;
    let (width, height) = decoder.dimensions();
    if width > 16383 || height > 16383 {
        return Ok(None);
    }
    let frame_pixels = width as u64 * height as u64;
    let mut frames = Vec::new();
    let mut pixels = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| Problem::Bad(format!("it is truncated or corrupt ({e})")))?;
        pixels += frame_pixels;
        if pixels > o.max_pixels {
            // Too many pixels to hold at once: published as it is.
            return Ok(None);
        }
        let (num, den) = frame.delay().numer_denom_ms();
        frames.push((frame.into_buffer(), num / den.max(1)));
    }
    if frames.len() < 2 {
        return Ok(None);
    }
    let mut config =
        webp::WebPConfig::new().map_err(|_| Problem::Bad("libwebp failed to start".into()))?;
    config.lossless = 1;
    config.quality = o.lossless_quality;
    config.method = o.method;
    config.thread_level = 0;
    let mut encoder = webp::AnimEncoder::new(width, height, &config);
    encoder.set_loop_count(gif_loops(bytes));
    let mut at = 0u32;
    for (buffer, delay) in &frames {
        encoder.add_frame(webp::AnimFrame::from_rgba(
            buffer.as_raw(),
            width,
            height,
            at.min(i32::MAX as u32) as i32,
        ));
        at = at.saturating_add(*delay);
    }
    let encoded = encoder
        .try_encode()
        .map_err(|e| Problem::Bad(format!("libwebp could not encode it ({e:?})")))?
        .to_vec();
    if encoded.len() >= bytes.len() {
        return Ok(None);
    }
    // Published only when it plays as the GIF does: every frame, every delay.
    let check =
        image::codecs::webp::WebPDecoder::new(Cursor::new(&encoded[..])).map_err(|e| fail(&e))?;
    let played: Result<Vec<u32>, _> = check
        .into_frames()
        .map(|f| {
            f.map(|f| {
                let (num, den) = f.delay().numer_denom_ms();
                num / den.max(1)
            })
        })
        .collect();
    let delays: Vec<u32> = frames.iter().map(|(_, d)| *d).collect();
    Ok((played.ok() == Some(delays)).then_some(encoded))
}

/// Pixels ready for the encoder: RGB when fully opaque, else RGBA.
pub(super) struct Pixels {
    data: Vec<u8>,
    width: u32,
    height: u32,
    alpha: bool,
}

/// Decodes an image with the pixel limit enforced and EXIF orientation applied.
pub fn decode(bytes: &[u8], format: Format, max_pixels: u64) -> Result<DynamicImage, Problem> {
    let Some(f) = format.image_format() else {
        return Err(Problem::Bad("not a raster image".into()));
    };
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), f)
        .into_decoder()
        .map_err(|e| Problem::Bad(format!("it cannot be decoded ({e})")))?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > max_pixels {
        return Err(Problem::TooLarge {
            width: w,
            height: h,
            limit: max_pixels,
        });
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16).max(64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|e| Problem::Bad(format!("it cannot be decoded ({e})")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| Problem::Bad(format!("it is truncated or corrupt ({e})")))?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn pixels(img: &DynamicImage) -> Pixels {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        if rgba.pixels().any(|p| p.0[3] != 255) {
            return Pixels {
                data: rgba.into_raw(),
                width,
                height,
                alpha: true,
            };
        }
    }
    Pixels {
        data: img.to_rgb8().into_raw(),
        width,
        height,
        alpha: false,
    }
}

/// Whether an image has more distinct colours than `limit` (a photo rather than a screenshot).
/// A bitmap over all 2^24 RGB values: one pass, no hashing.
pub(super) fn many_colors(px: &Pixels, limit: u32) -> bool {
    let step = if px.alpha { 4 } else { 3 };
    // An image with no more pixels than the limit cannot have more colours: icons and small
    // diagrams skip zeroing the 2 MB bitmap.
    if px.data.len() / step <= limit as usize {
        return false;
    }
    let mut seen = vec![0u64; 1 << 18];
    let mut count = 0u32;
    for c in px.data.chunks_exact(step) {
        let v = (c[0] as usize) << 16 | (c[1] as usize) << 8 | c[2] as usize;
        let (word, bit) = (v >> 6, 1u64 << (v & 63));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            count += 1;
            if count > limit {
                return true;
            }
        }
    }
    false
}

/// Encodes with libwebp, single-threaded (images are what run in parallel).
pub(super) fn encode_webp(
    data: &[u8],
    width: u32,
    height: u32,
    alpha: bool,
    lossless: bool,
    quality: f32,
    method: i32,
) -> Result<Vec<u8>, Problem> {
    let layout = if alpha {
        webp::PixelLayout::Rgba
    } else {
        webp::PixelLayout::Rgb
    };
    let needed = width as usize * height as usize * if alpha { 4 } else { 3 };
    if data.len() < needed || width == 0 || height == 0 || width > 16383 || height > 16383 {
        return Err(Problem::Bad(format!(
            "{width} x {height} cannot be encoded as WebP (at most 16383 x 16383)"
        )));
    }
    let encoder = webp::Encoder::new(data, layout, width, height);
    let mut config =
        webp::WebPConfig::new().map_err(|_| Problem::Bad("libwebp failed to start".into()))?;
    config.lossless = i32::from(lossless);
    config.quality = quality;
    config.method = method;
    config.alpha_compression = i32::from(!lossless);
    config.thread_level = 0;
    let mem = encoder
        .encode_advanced(&config)
        .map_err(|e| Problem::Bad(format!("libwebp could not encode it ({e:?})")))?;
    Ok(mem.to_vec())
}

/// For each output position along one axis, the source positions it covers and their share of
/// it: the exact overlap of the output pixel's footprint with each source pixel.
struct Spans {
    /// Per output position: its first source position and its range in `shares`.
    covers: Vec<(usize, std::ops::Range<usize>)>,
    /// The shares of consecutive source positions, all positions' runs end to end.
    shares: Vec<f32>,
}

impl Spans {
    fn new(from: u32, to: u32) -> Spans {
        let scale = from as f64 / to as f64;
        let mut covers = Vec::with_capacity(to as usize);
        let mut shares = Vec::with_capacity(from as usize + 2 * to as usize);
        for i in 0..to {
            let (start, end) = (i as f64 * scale, (i + 1) as f64 * scale);
            let mut s = start.floor() as u32;
            let mut first = None;
            let begin = shares.len();
            while (s as f64) < end && s < from {
                let share = (end.min(s as f64 + 1.0) - start.max(s as f64)) / scale;
                if share > 0.0 {
                    first.get_or_insert(s as usize);
                    shares.push(share as f32);
                } else if first.is_some() {
                    break;
                }
                s += 1;
            }
            covers.push((first.unwrap_or(0), begin..shares.len()));
        }
        Spans { covers, shares }
    }

    /// The source positions output position `i` covers, with their shares.
    fn of(&self, i: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (first, range) = self.covers[i].clone();
        self.shares[range]
            .iter()
            .enumerate()
            .map(move |(k, &share)| (first + k, share))
    }
}

/// Shrinks by exact area averaging, as libwebp's rescaler (and so `cwebp -resize`) does; alpha
/// is premultiplied while averaging so transparent pixels lend no colour. fast_image_resize's
/// box filter samples instead of covering: on the benchmark set its copies were 3.6% larger
/// and 6.6 dB worse against the true average.
pub(super) fn resize(px: &Pixels, width: u32, height: u32) -> Result<Vec<u8>, Problem> {
    if width == 0 || height == 0 || width > px.width || height > px.height {
        return Err(Problem::Bad(format!(
            "it cannot be resized from {} x {} to {width} x {height}",
            px.width, px.height
        )));
    }
    let needed = px.width as usize * px.height as usize * if px.alpha { 4 } else { 3 };
    if px.data.len() < needed {
        return Err(Problem::Bad("its decoded pixels are short".into()));
    }
    Ok(if px.alpha {
        shrink::<4>(px, width, height)
    } else {
        shrink::<3>(px, width, height)
    })
}

/// [`resize`] for `CH` channels (4: RGBA, premultiplied while averaging).
///
/// Columns first: each output row is the weighted sum of whole source rows, a loop the compiler
/// vectorises, and only then is that one row narrowed. Narrowing every source row first, as
/// before, did the scalar half of the work on every source row instead of every output row:
/// it was a fifth of a cold build's CPU.
fn shrink<const CH: usize>(px: &Pixels, width: u32, height: u32) -> Vec<u8> {
    let sw = px.width as usize;
    let (xs, ys) = (Spans::new(px.width, width), Spans::new(px.height, height));
    let w = width as usize;
    let mut out = vec![0u8; w * height as usize * CH];
    let mut acc = vec![0f32; sw * CH];
    for (y, dst) in out.chunks_exact_mut(w * CH).enumerate() {
        acc.fill(0.0);
        for (sy, share) in ys.of(y) {
            let src = &px.data[sy * sw * CH..(sy + 1) * sw * CH];
            if CH == 4 {
                for (a, p) in acc.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                    let alpha = p[3] as f32 * share;
                    let weight = alpha * (1.0 / 255.0);
                    a[0] += p[0] as f32 * weight;
                    a[1] += p[1] as f32 * weight;
                    a[2] += p[2] as f32 * weight;
                    a[3] += alpha;
                }
            } else {
                for (a, &v) in acc.iter_mut().zip(src) {
                    *a += v as f32 * share;
                }
            }
        }
        for (x, d) in dst.chunks_exact_mut(CH).enumerate() {
            let mut sum = [0f32; CH];
            for (sx, share) in xs.of(x) {
                let a = &acc[sx * CH..(sx + 1) * CH];
                for c in 0..CH {
                    sum[c] += a[c] * share;
                }
            }
            let unmultiply = if CH == 4 {
                if sum[CH - 1] > 0.0 {
                    255.0 / sum[CH - 1]
                } else {
                    0.0
                }
            } else {
                1.0
            };
            for c in 0..3 {
                d[c] = to_byte(sum[c] * unmultiply);
            }
            if CH == 4 {
                d[CH - 1] = to_byte(sum[CH - 1]);
            }
        }
    }
    out
}

/// Rounds a channel value to a byte (values are never negative; `+ 0.5` spares a libm call per
/// channel).
fn to_byte(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

/// What encoding one image made.
#[derive(Debug)]
pub(super) struct Encoded {
    /// Every output, in the order of [`Planned::outputs`].
    pub outputs: Vec<Vec<u8>>,
    /// libwebp encoder runs spent on them (a sample counts as one).
    pub encodes: u32,
    /// Outputs that came out of the encoder (a WebP source's full size is its own bytes).
    pub made: u32,
}

/// A screenshot's sample smaller than this many pixels is not worth taking: the image itself is
/// encoded both ways instead.
const SAMPLE_PIXELS: usize = 1 << 18;
/// Sampled bands, spread evenly from top to bottom.
const SAMPLE_BANDS: usize = 4;
/// A sample's lossy/lossless ratio below `lossy_ratio * SURE_LOSSY` means lossy for sure...
const SURE_LOSSY: f64 = 0.6;
/// ... and above `lossy_ratio * SURE_LOSSLESS`, lossless for sure; in between, both are encoded.
const SURE_LOSSLESS: f64 = 1.4;
/// A resized copy of a screenshot with at most this many colours is also tried lossless.
pub(super) const COPY_FEW_COLORS: u32 = 2048;

/// Every output of a still image, in the order of [`Planned::outputs`].
pub(super) fn encode_all(bytes: &[u8], p: &Planned, o: &ImageOptions) -> Result<Encoded, Problem> {
    if p.animated {
        // Settled as WebP before, and its cache entry gone since.
        return match encode_animation(bytes, o)? {
            Some(data) => Ok(Encoded {
                outputs: vec![data],
                encodes: 1,
                made: 1,
            }),
            None => Err(Problem::Bad("it changed while it was processed".into())),
        };
    }
    let mut encodes = 0;
    let limit = bytes.len();
    let webp_lossy = p.format == Format::Webp && webp_is_lossy(bytes);
    if p.format == Format::Webp && p.outputs.len() == 1 {
        // Only the full size, which is the source itself: nothing to decode.
        return Ok(Encoded {
            outputs: vec![bytes.to_vec()],
            encodes,
            made: 0,
        });
    }
    let px = decode_pixels(bytes, p.format, o.max_pixels)?;
    let lossy_source = p.format == Format::Jpeg || webp_lossy;
    let photo = lossy_source || many_colors(&px, o.photo_colors);
    let full = if p.format == Format::Webp {
        bytes.to_vec()
    } else if photo {
        lossy_within(&px, o, o.method, limit, &mut encodes)?
    } else {
        screenshot_full(&px, o, limit, &mut encodes)?
    };
    let mut outputs = Vec::with_capacity(p.outputs.len());
    outputs.push(full);
    for output in &p.outputs[1..] {
        let small = Pixels {
            data: resize(&px, output.width, output.height)?,
            width: output.width,
            height: output.height,
            alpha: px.alpha,
        };
        outputs.push(copy(&small, photo, o, limit, &mut encodes)?);
    }
    let made = outputs.len() as u32 - u32::from(p.format == Format::Webp);
    Ok(Encoded {
        outputs,
        encodes,
        made,
    })
}

/// Whether a WebP file's image is lossy (VP8, with or without an alpha chunk) rather than
/// lossless (VP8L).
pub(super) fn webp_is_lossy(bytes: &[u8]) -> bool {
    webp::BitstreamFeatures::new(bytes)
        .and_then(|f| f.format())
        .is_some_and(|f| matches!(f, webp::BitstreamFormat::Lossy))
}

/// Whether a WebP file is animated (published as it is: resizing would keep one frame).
pub(super) fn webp_is_animated(bytes: &[u8]) -> bool {
    webp::BitstreamFeatures::new(bytes).is_some_and(|f| f.has_animation())
}

/// Decodes to encoder-ready pixels. WebP goes through libwebp's own decoder (the one `cwebp`
/// uses; faster than `image`'s), unless EXIF asks for a rotation, which only `image` applies.
fn decode_pixels(bytes: &[u8], format: Format, max_pixels: u64) -> Result<Pixels, Problem> {
    if format == Format::Webp && !rotated(bytes) {
        if let Some(img) = webp::Decoder::new(bytes).decode() {
            let (width, height) = (img.width(), img.height());
            if width as u64 * height as u64 > max_pixels {
                return Err(Problem::TooLarge {
                    width,
                    height,
                    limit: max_pixels,
                });
            }
            let alpha = img.is_alpha();
            let data = img.to_vec();
            let px = Pixels {
                data,
                width,
                height,
                alpha,
            };
            return Ok(if alpha && px.data.chunks_exact(4).all(|c| c[3] == 255) {
                drop_alpha(px)
            } else {
                px
            });
        }
    }
    let img = decode(bytes, format, max_pixels)?;
    Ok(pixels(&img))
}

/// Whether the image's EXIF orientation asks for anything but showing it as stored.
fn rotated(bytes: &[u8]) -> bool {
    let Ok(mut decoder) =
        ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::WebP).into_decoder()
    else {
        return false;
    };
    decoder
        .orientation()
        .is_ok_and(|o| o != image::metadata::Orientation::NoTransforms)
}

fn drop_alpha(px: Pixels) -> Pixels {
    let data = px
        .data
        .chunks_exact(4)
        .flat_map(|c| [c[0], c[1], c[2]])
        .collect();
    Pixels {
        data,
        alpha: false,
        ..px
    }
}

/// `px` as lossless WebP with the configured effort (`method`).
fn lossless(
    px: &Pixels,
    o: &ImageOptions,
    method: i32,
    encodes: &mut u32,
) -> Result<Vec<u8>, Problem> {
    *encodes += 1;
    encode_webp(
        &px.data,
        px.width,
        px.height,
        px.alpha,
        true,
        o.lossless_quality,
        method,
    )
}

/// A resized copy: lossy, and for a screenshot also lossless when the copy kept few colours
/// (an exact halving of a high-density screenshot), whichever is smaller.
fn copy(
    px: &Pixels,
    photo: bool,
    o: &ImageOptions,
    limit: usize,
    encodes: &mut u32,
) -> Result<Vec<u8>, Problem> {
    let lossy = lossy_within(px, o, o.copy_method, limit, encodes)?;
    if photo || many_colors(px, COPY_FEW_COLORS) {
        return Ok(lossy);
    }
    let lossless = lossless(px, o, o.copy_method, encodes)?;
    Ok(if lossless.len() <= lossy.len() {
        lossless
    } else {
        lossy
    })
}

/// Lossy at the configured quality, or lower (in steps of 10, down to 30) when that would be
/// larger than the source: an already heavily compressed JPEG has no more detail to keep.
fn lossy_within(
    px: &Pixels,
    o: &ImageOptions,
    method: i32,
    limit: usize,
    encodes: &mut u32,
) -> Result<Vec<u8>, Problem> {
    let mut encode = |q: f32| {
        *encodes += 1;
        encode_webp(&px.data, px.width, px.height, px.alpha, false, q, method)
    };
    let mut best = encode(o.quality)?;
    let mut q = o.quality;
    while best.len() > limit && q > 30.0 {
        q = (q - 10.0).max(30.0);
        let next = encode(q)?;
        if next.len() < best.len() {
            best = next;
        }
    }
    Ok(best)
}

/// What a sample says about a screenshot's full size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Lossy is clearly under `lossy_ratio` of lossless.
    Lossy,
    /// Lossy is clearly not.
    Lossless,
    /// Too close to call from the sample (or no sample): encode both.
    Both,
}

/// Rows from `SAMPLE_BANDS` bands spread over the image, about `SAMPLE_PIXELS` in all, as one
/// image; `None` when the image is too small for a sample to be cheaper than the real thing.
fn sample(px: &Pixels) -> Option<Pixels> {
    let (w, h) = (px.width as usize, px.height as usize);
    if w * h < SAMPLE_PIXELS * 3 {
        return None;
    }
    let band = (SAMPLE_PIXELS / SAMPLE_BANDS / w)
        .max(16)
        .min(h / SAMPLE_BANDS);
    let ch = if px.alpha { 4 } else { 3 };
    let row = w * ch;
    let mut data = Vec::with_capacity(band * SAMPLE_BANDS * row);
    for b in 0..SAMPLE_BANDS {
        // Band starts at the middle of each quarter, so headers and footers weigh no more
        // than the body.
        let top = ((2 * b + 1) * h / (2 * SAMPLE_BANDS)).saturating_sub(band / 2);
        let top = top.min(h - band);
        data.extend_from_slice(px.data.get(top * row..(top + band) * row)?);
    }
    Some(Pixels {
        data,
        width: px.width,
        height: (band * SAMPLE_BANDS) as u32,
        alpha: px.alpha,
    })
}

/// Encodes a sample of a screenshot both ways and says which the whole image should get.
pub(super) fn verdict(
    px: &Pixels,
    o: &ImageOptions,
    encodes: &mut u32,
) -> Result<Verdict, Problem> {
    let Some(s) = sample(px) else {
        return Ok(Verdict::Both);
    };
    let lossless = lossless(&s, o, o.method, encodes)?.len() as f64;
    *encodes += 1;
    let lossy = encode_webp(
        &s.data, s.width, s.height, s.alpha, false, o.quality, o.method,
    )?
    .len() as f64;
    let ratio = lossy / lossless.max(1.0);
    let threshold = o.lossy_ratio as f64;
    Ok(if ratio < threshold * SURE_LOSSY {
        Verdict::Lossy
    } else if ratio > threshold * SURE_LOSSLESS {
        Verdict::Lossless
    } else {
        Verdict::Both
    })
}

/// A screenshot's full size: lossless (text stays crisp) unless lossy is under `lossy_ratio` of
/// it, and never more bytes than the source.
fn screenshot_full(
    px: &Pixels,
    o: &ImageOptions,
    limit: usize,
    encodes: &mut u32,
) -> Result<Vec<u8>, Problem> {
    let chosen = match verdict(px, o, encodes)? {
        Verdict::Lossy => lossy_within(px, o, o.method, limit, encodes)?,
        Verdict::Lossless => lossless(px, o, o.method, encodes)?,
        Verdict::Both => {
            let lossless = lossless(px, o, o.method, encodes)?;
            *encodes += 1;
            let lossy = encode_webp(
                &px.data, px.width, px.height, px.alpha, false, o.quality, o.method,
            )?;
            if (lossy.len() as f64) < lossless.len() as f64 * o.lossy_ratio as f64 {
                lossy
            } else {
                lossless
            }
        }
    };
    if chosen.len() > limit {
        // Rare (a tiny or very well packed PNG): never publish more bytes than the source.
        let lossy = lossy_within(px, o, o.method, limit, encodes)?;
        return Ok(if lossy.len() < chosen.len() {
            lossy
        } else {
            chosen
        });
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_averages_exact_areas() {
        // 3 columns to 2: each output pixel covers one and a half source pixels.
        let px = Pixels {
            data: vec![0, 0, 0, 90, 90, 90, 180, 180, 180],
            width: 3,
            height: 1,
            alpha: false,
        };
        assert_eq!(resize(&px, 2, 1).unwrap(), vec![30, 30, 30, 150, 150, 150]);
        let spans = Spans::new(1600, 480);
        for i in 0..480 {
            let total: f32 = spans.of(i).map(|(_, s)| s).sum();
            assert!((total - 1.0).abs() < 1e-4, "position {i}: {total}");
        }
        // A transparent pixel lends no colour.
        let px = Pixels {
            data: vec![255, 0, 0, 0, 0, 0, 255, 255],
            width: 2,
            height: 1,
            alpha: true,
        };
        assert_eq!(resize(&px, 1, 1).unwrap(), vec![0, 0, 255, 128]);
        assert!(resize(&px, 3, 1).is_err(), "never upscales");
    }

    /// The separable, columns-first shrink equals the plain two-dimensional area average,
    /// with and without alpha, for sizes that do not divide evenly.
    #[test]
    fn shrinking_equals_the_two_dimensional_average() {
        let (sw, sh) = (37u32, 23u32);
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as u8
        };
        for ch in [3usize, 4] {
            let data: Vec<u8> = (0..sw as usize * sh as usize * ch)
                .map(|_| next())
                .collect();
            let px = Pixels {
                data,
                width: sw,
                height: sh,
                alpha: ch == 4,
            };
            for (w, h) in [(10u32, 7u32), (36, 5), (1, 1), (37, 23)] {
                let got = resize(&px, w, h).unwrap();
                let (fx, fy) = (sw as f64 / w as f64, sh as f64 / h as f64);
                for y in 0..h as usize {
                    for x in 0..w as usize {
                        let mut sum = [0f64; 4];
                        for sy in 0..sh as usize {
                            let cy = ((y as f64 + 1.0) * fy).min(sy as f64 + 1.0)
                                - (y as f64 * fy).max(sy as f64);
                            for sx in 0..sw as usize {
                                let cx = ((x as f64 + 1.0) * fx).min(sx as f64 + 1.0)
                                    - (x as f64 * fx).max(sx as f64);
                                if cx <= 0.0 || cy <= 0.0 {
                                    continue;
                                }
                                let p = &px.data[(sy * sw as usize + sx) * ch..][..ch];
                                let a = if ch == 4 { p[3] as f64 / 255.0 } else { 1.0 };
                                for c in 0..3 {
                                    sum[c] += p[c] as f64 * a * cx * cy;
                                }
                                sum[3] += a * cx * cy;
                            }
                        }
                        let area = fx * fy;
                        let d = &got[(y * w as usize + x) * ch..][..ch];
                        for c in 0..3 {
                            let want = if sum[3] > 0.0 { sum[c] / sum[3] } else { 0.0 };
                            assert!(
                                (d[c] as f64 - want).abs() <= 1.0,
                                "{ch} channels, {w}x{h} at ({x},{y}) channel {c}: {} vs {want}",
                                d[c]
                            );
                        }
                        if ch == 4 {
                            let want = sum[3] / area * 255.0;
                            assert!(
                                (d[3] as f64 - want).abs() <= 1.0,
                                "alpha {} vs {want}",
                                d[3]
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gif_loop_counts() {
        assert_eq!(gif_loops(b"GIF89a...."), 1, "no extension: plays once");
        assert_eq!(
            gif_loops(b"GIF89a!\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00"),
            0
        );
        assert_eq!(
            gif_loops(b"GIF89a!\xFF\x0BNETSCAPE2.0\x03\x01\x05\x00\x00"),
            5
        );
    }

    /// A screenshot-like image: flat panels and one-pixel "text" strokes in a few colours.
    fn flat(w: u32, h: u32) -> Pixels {
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let v: u8 = if (x / 7 + y / 3) % 11 == 0 || y % 40 < 2 {
                    40
                } else if x < w / 5 {
                    240
                } else {
                    255
                };
                data.extend_from_slice(&[v, v, v.saturating_sub(10)]);
            }
        }
        Pixels {
            data,
            width: w,
            height: h,
            alpha: false,
        }
    }

    /// Noise over a smooth field: a photo, where lossy is far smaller.
    fn noisy(w: u32, h: u32) -> Pixels {
        let mut seed = 0x2545_F491_u64;
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let base = ((x + y) % 256) as u8;
                data.extend_from_slice(&[
                    base.wrapping_add((seed % 23) as u8),
                    base / 2 + (seed % 17) as u8,
                    255 - base,
                ]);
            }
        }
        Pixels {
            data,
            width: w,
            height: h,
            alpha: false,
        }
    }

    #[test]
    fn a_sample_settles_clear_cases_without_encoding_the_whole_image() {
        let o = ImageOptions::default();
        let mut encodes = 0;
        assert_eq!(
            verdict(&flat(1600, 1000), &o, &mut encodes).unwrap(),
            Verdict::Lossless
        );
        assert_eq!(
            encodes, 2,
            "one lossless and one lossy encode of the sample"
        );
        let mut encodes = 0;
        assert_eq!(
            verdict(&noisy(1600, 1000), &o, &mut encodes).unwrap(),
            Verdict::Lossy
        );
        // Too small to sample: both are encoded whole.
        assert_eq!(
            verdict(&flat(300, 200), &o, &mut encodes).unwrap(),
            Verdict::Both
        );
    }

    #[test]
    fn samples_are_bands_of_whole_rows() {
        let px = flat(1000, 2000);
        let s = sample(&px).unwrap();
        assert_eq!(s.width, 1000);
        assert_eq!(s.data.len(), (s.width * s.height * 3) as usize);
        assert!(s.width as usize * (s.height as usize) <= SAMPLE_PIXELS + 1000 * SAMPLE_BANDS);
        assert!(sample(&flat(400, 300)).is_none());
    }
}
