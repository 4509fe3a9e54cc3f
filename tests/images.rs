//! The image pipeline end to end: generated screenshots and photos in, WebP out and decoded
//! back (lossless really lossless, lossy above a PSNR floor), the rewritten HTML, the cache
//! (a warm build encodes nothing; one changed image re-encodes one), and bad input, each a
//! clear error at the page's line.

mod common;

use common::images::{photo, png, screenshot};
use docsite::BuildOptions;

/// A site whose images are small (so the unoptimised test build stays quick) with resized
/// copies at 100 and 160 px (at most 80% of an image's width).
fn site_with(pages: &[(&str, &str)], images: &[(&str, Vec<u8>)]) -> common::Site {
    let site = common::Site::new();
    site.write(
        "docsite.toml",
        "title = \"Images\"\n[images]\nwidths = [100, 160, 4000]\n",
    );
    for (rel, text) in pages {
        site.write(rel, text);
    }
    for (rel, bytes) in images {
        site.write_bytes(rel, bytes);
    }
    site
}

fn decode(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::WebP)
        .unwrap()
        .to_rgba8()
}

fn psnr(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut sum = 0f64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        for c in 0..3 {
            let d = p.0[c] as f64 - q.0[c] as f64;
            sum += d * d;
        }
    }
    let mse = sum / (a.width() as f64 * a.height() as f64 * 3.0);
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// The `<img ...>` tag in `html` whose `src` starts with `prefix`.
fn img_tag<'h>(html: &'h str, prefix: &str) -> &'h str {
    let start = html
        .find(&format!("<img src=\"{prefix}"))
        .unwrap_or_else(|| panic!("no <img> for {prefix} in {html}"));
    &html[start..start + html[start..].find('>').unwrap() + 1]
}

fn attr<'t>(tag: &'t str, name: &str) -> &'t str {
    let i = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    &tag[i..i + tag[i..].find('"').unwrap()]
}

#[test]
fn screenshots_are_lossless_photos_lossy_above_the_psnr_floor() {
    let shot = screenshot(300, 200, 1);
    let pic = photo(400, 300, 2);
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![The dialog](./shot.png)\n\n![A photo](./pic.png)\n",
        )],
        &[
            ("content/shot.png", png(&shot)),
            ("content/pic.png", png(&pic)),
        ],
    );
    let summary = site.build().unwrap();
    assert_eq!(summary.images.images, 2);
    assert_eq!(summary.images.encoded, 2);
    let html = site.read_out("a/index.html");

    let tag = img_tag(&html, "/assets/shot.");
    assert_eq!(attr(tag, "width"), "300");
    assert_eq!(attr(tag, "height"), "200");
    assert!(
        !tag.contains("loading="),
        "the first image is not lazy: {tag}"
    );
    // Widths at or above the source are skipped; the full size closes the srcset.
    let srcset = attr(tag, "srcset");
    assert!(srcset.contains("-100w.webp 100w") && srcset.contains("-160w.webp 160w"));
    assert!(
        srcset.ends_with(" 300w") && !srcset.contains("4000w"),
        "{srcset}"
    );
    let full = std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap();
    assert_eq!(&full[12..16], b"VP8L", "a screenshot is lossless");
    assert_eq!(
        decode(&full),
        image::DynamicImage::ImageRgb8(shot).to_rgba8(),
        "lossless is really lossless"
    );
    let small = attr(tag, "srcset").split(' ').next().unwrap();
    let small = decode(&std::fs::read(site.root().join("public").join(&small[1..])).unwrap());
    assert_eq!(small.dimensions(), (100, 67));

    let tag = img_tag(&html, "/assets/pic.");
    assert!(tag.contains("loading=\"lazy\""), "{tag}");
    assert!(tag.contains("decoding=\"async\"") && tag.contains("alt=\"A photo\""));
    let full = std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap();
    assert_eq!(&full[12..16], b"VP8 ", "a photo is lossy");
    let db = psnr(
        &decode(&full),
        &image::DynamicImage::ImageRgb8(pic).to_rgba8(),
    );
    assert!(db > 30.0, "photo PSNR {db:.1} dB");
    assert!(
        (full.len() as u64)
            < std::fs::metadata(site.root().join("content/pic.png"))
                .unwrap()
                .len()
    );
}

#[test]
fn rewritten_html() {
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![First *shot*](./shot.png \"The title\")\n\n\
             [![Linked](./shot.png)](https://example.org)\n\n\
             ![Named as WebP](./named.webp)\n\n![Logo](/logo.svg)\n\n\
             ![Remote](https://example.org/x.png)\n\n\
             <p class=\"raw\"><img src=\"./shot.png\" alt=\"Raw HTML\"></p>\n",
        )],
        &[
            ("content/shot.png", png(&screenshot(240, 160, 3))),
            ("content/named.png", png(&screenshot(90, 60, 4))),
            (
                "static/logo.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 32\"></svg>".to_vec(),
            ),
        ],
    );
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    assert!(!loaded.has_errors(), "{:?}", loaded.problems);
    insta::assert_snapshot!("image_html", loaded.bodies[0].html);
}

#[test]
fn warm_build_encodes_nothing_and_a_changed_image_only_itself() {
    let images: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            (
                format!("content/s{i}.png"),
                png(&screenshot(160, 100, 10 + i)),
            )
        })
        .collect();
    let page: String = (0..4)
        .map(|i| format!("![Shot {i}](./s{i}.png)\n\n"))
        .collect();
    let page = format!("---\ntitle: A\n---\n{page}");
    let refs: Vec<(&str, Vec<u8>)> = images
        .iter()
        .map(|(r, b)| (r.as_str(), b.clone()))
        .collect();
    let site = site_with(&[("content/a.md", &page)], &refs);
    let cold = site.build().unwrap();
    assert_eq!((cold.images.images, cold.images.encoded), (4, 4));
    let warm = site.build().unwrap();
    assert_eq!(
        (warm.images.encoded, warm.images.cached),
        (0, 4),
        "{}",
        warm.images
    );
    site.write_bytes("content/s2.png", &png(&screenshot(160, 100, 99)));
    let changed = site.build().unwrap();
    assert_eq!((changed.images.encoded, changed.images.cached), (1, 3));
    // The cache is only a cache.
    std::fs::remove_dir_all(site.root().join(".docsite-cache")).unwrap();
    assert_eq!(site.build().unwrap().images.encoded, 4);
}

#[test]
fn one_image_can_be_processed_again_alone() {
    let site = site_with(
        &[("content/a.md", "---\ntitle: A\n---\n![Shot](./s.png)\n")],
        &[("content/s.png", png(&screenshot(120, 80, 5)))],
    );
    let mut loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    let before = loaded
        .images
        .get("s.png")
        .unwrap()
        .as_ref()
        .unwrap()
        .outputs[0]
        .rel
        .clone();
    site.write_bytes("content/s.png", &png(&screenshot(120, 80, 6)));
    let path = site.root().join("content/s.png");
    let after = loaded.images.refresh("s.png", &path).unwrap().outputs[0]
        .rel
        .clone();
    assert_ne!(before, after, "a new content hash, a new name");
}

/// A PNG header claiming `w` x `h` pixels, with no pixel data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc(&ihdr).to_be_bytes());
    out.extend(0u32.to_be_bytes());
    out.extend(b"IEND");
    out.extend(crc(b"IEND").to_be_bytes());
    out
}

/// A JPEG with an EXIF orientation tag (6: rotate 90° clockwise to show).
fn jpeg_rotated(w: u32, h: u32) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(photo(w, h, 7))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn odd_but_valid_images_are_handled() {
    let grey_alpha =
        image::DynamicImage::ImageLumaA8(image::ImageBuffer::from_fn(50, 40, |x, y| {
            image::LumaA([(x * 5) as u8, if y < 20 { 255 } else { 128 }])
        }));
    let deep = image::DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(50, 40, |x, y| {
        image::Rgb([(x * 1000) as u16, (y * 1500) as u16, 40000])
    }));
    let encode = |img: &image::DynamicImage| {
        let mut v = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut v), image::ImageFormat::Png)
            .unwrap();
        v
    };
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        let frames = (0..3).map(|i| {
            image::Frame::new(image::RgbaImage::from_pixel(
                20,
                10,
                image::Rgba([i * 80, 0, 0, 255]),
            ))
        });
        enc.encode_frames(frames).unwrap();
    }
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Grey](./grey.png)\n\n![Deep](./deep.png)\n\n\
             ![Rotated](./rotated.jpg)\n\n![Moving](./moving.gif)\n",
        )],
        &[
            ("content/grey.png", encode(&grey_alpha)),
            ("content/deep.png", encode(&deep)),
            ("content/rotated.jpg", jpeg_rotated(40, 20)),
            ("content/moving.gif", gif.clone()),
        ],
    );
    let summary = site.build().unwrap();
    assert_eq!(summary.images.images, 4);
    let html = site.read_out("a/index.html");
    let tag = img_tag(&html, "/assets/rotated.");
    assert_eq!(
        (attr(tag, "width"), attr(tag, "height")),
        ("20", "40"),
        "EXIF orientation"
    );
    let out =
        decode(&std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap());
    assert_eq!(out.dimensions(), (20, 40));
    let tag = img_tag(&html, "/assets/moving.");
    let moving = std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap();
    if attr(tag, "src").ends_with(".gif") {
        assert_eq!(moving, gif, "an animated GIF is kept as it is");
    } else {
        assert_eq!(
            webp_frames(&moving).len(),
            3,
            "or becomes animated WebP: {tag}"
        );
        assert!(moving.len() < gif.len());
    }
    let tag = img_tag(&html, "/assets/grey.");
    let out =
        decode(&std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap());
    assert_eq!(
        out.get_pixel(3, 30).0,
        [15, 15, 15, 128],
        "grey with alpha, lossless"
    );
}

#[test]
fn bad_images_are_clear_errors_at_the_page_line_before_anything_is_decoded() {
    let good = png(&screenshot(60, 40, 8));
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n\
             ![Not a PNG](./fake.png)\n\n\
             ![Empty](./empty.png)\n\n\
             ![Truncated](./truncated.png)\n\n\
             ![Bomb](./bomb.png)\n\n\
             ![Tiff](./scan.tiff)\n\n\
             ![Heic](./phone.heic)\n\n\
             ![Escape](../../../etc/passwd)\n\n\
             ![Link out](./out.png)\n\n\
             ![Case](./Good.png)\n\n\
             ![Good](./good.png)\n",
        )],
        &[
            ("content/fake.png", b"<html>not an image</html>".to_vec()),
            ("content/empty.png", Vec::new()),
            ("content/truncated.png", good[..good.len() / 2].to_vec()),
            ("content/bomb.png", png_header(50_000, 50_000)),
            ("content/scan.tiff", b"II*\0\x08\0\0\0\0\0\0\0".to_vec()),
            (
                "content/phone.heic",
                b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            ),
            ("content/good.png", good.clone()),
        ],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", site.root().join("content/out.png")).unwrap();
    let errors = site.build().expect_err("bad images fail the build").0;
    let mut found: Vec<(&str, usize, String)> = errors
        .iter()
        .map(|e| (e.kind.code(), e.location.line, e.to_string()))
        .collect();
    found.sort();
    let codes: Vec<(&str, usize)> = found.iter().map(|(c, l, _)| (*c, *l)).collect();
    // The truncated PNG's header is fine: only decoding finds it, and a build with errors stops
    // before decoding anything (below, once the others are fixed).
    let mut expected = vec![
        ("bad-image", 4),
        ("bad-image", 6),
        ("image-too-large", 10),
        ("unsupported-image", 12),
        ("unsupported-image", 14),
        ("image-outside-site", 16),
        ("image-case-mismatch", 20),
    ];
    // A symlink out of the site is refused where it is, while the content is walked, so the
    // page's reference to it finds no image.
    #[cfg(unix)]
    expected.extend([("symlink-outside-site", 0), ("missing-image", 18)]);
    expected.sort();
    assert_eq!(codes, expected, "{found:#?}");
    for e in errors
        .iter()
        .filter(|e| e.kind.code() != "symlink-outside-site")
    {
        assert_eq!(e.location.path, std::path::Path::new("content/a.md"));
        assert!(e.kind.hint().is_some());
    }
    let text = |code: &str, line: usize| {
        errors
            .iter()
            .find(|e| e.kind.code() == code && e.location.line == line)
            .map(|e| format!("{} / {}", e.kind, e.kind.hint().unwrap_or_default()))
            .unwrap()
    };
    assert!(
        text("bad-image", 4).contains("named like a PNG"),
        "{}",
        text("bad-image", 4)
    );
    assert!(text("bad-image", 6).contains("empty"));
    assert!(text("image-too-large", 10).contains("50000 x 50000"));
    assert!(text("unsupported-image", 12).contains("TIFF"));
    assert!(text("unsupported-image", 14).contains("HEIC"));
    assert!(
        text("image-case-mismatch", 20).contains("did you mean")
            || text("image-case-mismatch", 20).contains("./good.png")
    );
    // Nothing was written.
    assert!(!site.root().join("public").exists());

    // With the others fixed, decoding finds the truncated one, at its line.
    #[cfg(unix)]
    std::fs::remove_file(site.root().join("content/out.png")).unwrap();
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\n![Truncated](./truncated.png)\n\n![Good](./good.png)\n",
    );
    let errors = site
        .build()
        .expect_err("a truncated image fails the build")
        .0;
    let errors: Vec<_> = errors.into_iter().filter(|e| e.is_error()).collect();
    let codes: Vec<(&str, usize)> = errors
        .iter()
        .map(|e| (e.kind.code(), e.location.line))
        .collect();
    assert_eq!(codes, [("bad-image", 4)], "{errors:#?}");
    assert!(errors[0].to_string().contains("truncated"), "{}", errors[0]);
    assert!(!site.root().join("public").exists());
}

#[test]
fn a_build_with_errors_decodes_no_image() {
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![One](./one.png)\n\n![Two](./two.png)\n\n[gone](./gone.md)\n",
        )],
        &[
            ("content/one.png", png(&screenshot(400, 300, 21))),
            ("content/two.png", png(&screenshot(500, 300, 22))),
        ],
    );
    let errors = site.build().expect_err("a broken link fails the build").0;
    let codes: Vec<&str> = errors.iter().map(|e| e.kind.code()).collect();
    assert_eq!(codes, ["broken-link"]);
    let cache = site.root().join(".docsite-cache/images");
    let entries = std::fs::read_dir(&cache).map_or(0, |d| d.count());
    assert_eq!(entries, 0, "images were encoded before the build stopped");
    // Fixed, the same build encodes both.
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\n![One](./one.png)\n\n![Two](./two.png)\n",
    );
    let summary = site.build().expect("builds");
    assert_eq!(summary.images.encoded, 2);
}

#[test]
fn frontmatter_images_go_through_the_pipeline() {
    let site = site_with(
        &[
            (
                "content/a.md",
                "---\ntitle: A\nfeature_image: ./hero.png\n---\nText.\n",
            ),
            (
                "content/b.md",
                "---\ntitle: B\nfeature_image: ./nope.png\n---\nText.\n",
            ),
        ],
        &[("content/hero.png", png(&screenshot(300, 150, 11)))],
    );
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    let codes: Vec<_> = loaded
        .problems
        .iter()
        .map(|e| {
            (
                e.kind.code(),
                e.location.path.to_string_lossy().into_owned(),
                e.location.line,
            )
        })
        .collect();
    assert_eq!(codes, [("missing-image", "content/b.md".to_string(), 3)]);
    // A site with errors is not processed (fail fast): fix it, then the fields are filled.
    site.write("content/b.md", "---\ntitle: B\n---\nText.\n");
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let extra = &loaded.site.pages[0].page.meta.extra;
    assert!(
        extra["feature_image"]
            .as_str()
            .unwrap()
            .starts_with("/assets/hero.")
    );
    assert_eq!(extra["feature_image_width"], 300);
    assert!(
        extra["feature_image_srcset"]
            .as_str()
            .unwrap()
            .contains("-160w.webp 160w")
    );
}

#[test]
fn check_reads_headers_but_encodes_nothing() {
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Bomb](./bomb.png)\n\n![Shot](./s.png)\n",
        )],
        &[
            ("content/bomb.png", png_header(50_000, 50_000)),
            ("content/s.png", png(&screenshot(60, 40, 9))),
        ],
    );
    let loaded = docsite::build::load(
        site.root(),
        &docsite::build::LoadOptions {
            skip_highlight: true,
            ..Default::default()
        },
    )
    .unwrap();
    let codes: Vec<_> = loaded.problems.iter().map(|e| e.kind.code()).collect();
    assert_eq!(codes, ["image-too-large"]);
    assert!(!site.root().join(".docsite-cache/images").exists());
    // The default settings apply when `[images]` is not configured.
    let _ = BuildOptions::default();
}

#[test]
fn cmyk_jpeg_is_decoded_in_colour() {
    // Left half red ink (magenta + yellow), right half blue (cyan + magenta), top row darker.
    let jpeg = common::images::cmyk_jpeg(4, 2, |bx, by| {
        let k = if by == 0 { 0 } else { 128 };
        if bx < 2 {
            [0, 255, 255, k]
        } else {
            [255, 255, 0, k]
        }
    });
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Print](./print.jpg)\n",
        )],
        &[("content/print.jpg", jpeg)],
    );
    site.build().unwrap();
    let html = site.read_out("a/index.html");
    let tag = img_tag(&html, "/assets/print.");
    assert_eq!((attr(tag, "width"), attr(tag, "height")), ("32", "16"));
    let out =
        decode(&std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap());
    let [r, g, b, _] = out.get_pixel(4, 4).0;
    assert!(
        r > 200 && g < 60 && b < 60,
        "red ink shows red: {r} {g} {b}"
    );
    let [r, g, b, _] = out.get_pixel(28, 4).0;
    assert!(
        b > 120 && r < 80 && g < 80,
        "cyan and magenta show blue: {r} {g} {b}"
    );
    let [r2, _, _, _] = out.get_pixel(4, 12).0;
    assert!(r2 < r.max(200) - 60, "black ink darkens: {r2}");
}

#[test]
fn max_pixels_is_configurable_and_read_from_the_header() {
    let site = common::Site::new();
    site.write(
        "docsite.toml",
        "title = \"Images\"\n[images]\nmax_pixels = 2000\n",
    );
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\nText.\n\n![Too big](./big.png)\n\n![Fine](./small.png)\n",
    );
    site.write_bytes("content/big.png", &png(&screenshot(60, 40, 12)));
    site.write_bytes("content/small.png", &png(&screenshot(40, 40, 13)));
    let errors = site.build().expect_err("over the limit").0;
    let found: Vec<_> = errors
        .iter()
        .map(|e| (e.kind.code(), e.location.line, e.to_string()))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), ("image-too-large", 6));
    assert!(found[0].2.contains("60 x 40"), "{}", found[0].2);
}

/// A GIF of `frames` frames of `w` x `h`, each `delays[i]` hundredths of a second, looping.
fn animated_gif(w: u16, h: u16, delays: &[u16]) -> Vec<u8> {
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        let frames = delays.iter().enumerate().map(|(i, &d)| {
            // A moving bar over a flat UI: what screen recordings look like.
            let img = image::RgbaImage::from_fn(w as u32, h as u32, |x, y| {
                let bar = (x as usize / 6 + i).is_multiple_of(5) && y > 4;
                if bar {
                    image::Rgba([9, 105, 218, 255])
                } else {
                    image::Rgba([246, 248, 250, 255])
                }
            });
            image::Frame::from_parts(
                img,
                0,
                0,
                image::Delay::from_numer_denom_ms(d as u32 * 10, 1),
            )
        });
        enc.encode_frames(frames).unwrap();
    }
    gif
}

fn webp_frames(bytes: &[u8]) -> Vec<u32> {
    use image::AnimationDecoder;
    image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(bytes))
        .unwrap()
        .into_frames()
        .map(|f| {
            let (n, d) = f.unwrap().delay().numer_denom_ms();
            n / d
        })
        .collect()
}

#[test]
fn animated_gifs_become_animated_webp_only_when_smaller_and_the_same() {
    let even = animated_gif(120, 60, &[10; 6]);
    let uneven = animated_gif(120, 60, &[10, 10, 10, 50]);
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Even](./even.gif)\n\n![Uneven](./uneven.gif)\n",
        )],
        &[
            ("content/even.gif", even.clone()),
            ("content/uneven.gif", uneven.clone()),
        ],
    );
    let cold = site.build().unwrap();
    let html = site.read_out("a/index.html");
    let tag = img_tag(&html, "/assets/even.");
    assert!(attr(tag, "src").ends_with(".webp"), "{tag}");
    assert!(!attr(tag, "src").contains("w.webp") && !tag.contains("srcset"));
    let out = std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..])).unwrap();
    assert_eq!(webp_frames(&out), vec![100; 6], "every frame, every delay");
    assert!(out.len() < even.len(), "{} >= {}", out.len(), even.len());
    // The webp crate cannot give the last frame its own duration: kept as it is rather than
    // played differently.
    let tag = img_tag(&html, "/assets/uneven.");
    let src = site.root().join("public").join(&attr(tag, "src")[1..]);
    let out = std::fs::read(&src).unwrap();
    if attr(tag, "src").ends_with(".gif") {
        assert_eq!(out, uneven);
    } else {
        assert_eq!(webp_frames(&out), vec![100, 100, 100, 500]);
        assert!(out.len() < uneven.len());
    }
    // The decision is cached: a warm build encodes nothing.
    let warm = site.build().unwrap();
    assert_eq!(
        (cold.images.encoded > 0, warm.images.encoded),
        (true, 0),
        "{}",
        warm.images
    );
    assert_eq!(site.read_out("a/index.html"), html);
}

#[test]
fn raw_html_images_keep_their_attributes_and_are_published() {
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\nText.\n\n\
             <figure><img src=\"./raw.png\" alt=\"Only raw\" class=\"wide\" style=\"border:0\" data-zoom></figure>\n\n\
             <a href=\"https://example.org\"><img src=\"./raw.png\" alt=\"In a link\" width=\"50\"></a>\n",
        )],
        &[("content/raw.png", png(&screenshot(240, 160, 14)))],
    );
    let summary = site.build().unwrap();
    assert_eq!(
        summary.images.images, 1,
        "an image only raw HTML shows is processed"
    );
    let html = site.read_out("a/index.html");
    let tag = img_tag(&html, "/assets/raw.");
    for kept in [
        "class=\"wide\"",
        "style=\"border:0\"",
        " data-zoom",
        "srcset=",
        "alt=\"Only raw\"",
    ] {
        assert!(tag.contains(kept), "{kept} in {tag}");
    }
    for file in attr(tag, "srcset").split(", ") {
        let url = file.split(' ').next().unwrap();
        assert!(
            site.root().join("public").join(&url[1..]).is_file(),
            "{url}"
        );
    }
    let second = &html[html.find("In a link").unwrap() - 600..];
    let second = &second[second.rfind("<a href=\"https://example.org\">").unwrap()..];
    assert!(
        !second[30..].starts_with("<a"),
        "no link inside the author's link: {second}"
    );
    let tag = &second[second.find("<img").unwrap()..];
    let tag = &tag[..tag.find('>').unwrap()];
    assert!(
        tag.contains("width=\"50\"") && !tag.contains("height="),
        "the author's width wins and the height goes with ours: {tag}"
    );
}

#[test]
fn originals_are_published_only_when_linked() {
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Named as WebP](./shown.webp)\n\n\
             ![Also offered](./offered.png) [Download the original](./offered.png)\n",
        )],
        &[
            ("content/shown.png", png(&screenshot(120, 80, 15))),
            ("content/offered.png", png(&screenshot(120, 80, 16))),
        ],
    );
    site.build().unwrap();
    let public = site.root().join("public");
    assert!(
        !public.join("shown.png").exists(),
        "only its WebP is published"
    );
    assert!(!public.join("shown.webp").exists());
    assert_eq!(
        std::fs::read(public.join("offered.png")).unwrap(),
        std::fs::read(site.root().join("content/offered.png")).unwrap(),
        "a linked original is published as it is"
    );
    let html = site.read_out("a/index.html");
    assert!(img_tag(&html, "/assets/shown.").contains("Named as WebP"));
}

#[test]
fn no_output_is_larger_than_its_source() {
    // A JPEG saved at low quality: WebP at q80 would be larger, so a lower quality is used.
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 30)
        .encode_image(&image::DynamicImage::ImageRgb8(photo(400, 300, 17)))
        .unwrap();
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Photo](./small.jpg)\n",
        )],
        &[("content/small.jpg", jpeg.clone())],
    );
    site.build().unwrap();
    let assets = site.root().join("public/assets");
    let mut outputs = 0;
    for e in std::fs::read_dir(&assets).unwrap() {
        let len = e.unwrap().metadata().unwrap().len();
        assert!(len <= jpeg.len() as u64, "{len} > {}", jpeg.len());
        outputs += 1;
    }
    assert_eq!(outputs, 3, "full size, 100 and 160 px");
}

#[test]
fn a_changed_image_is_encoded_alone_and_its_pages_show_the_new_names() {
    let site = site_with(
        &[
            ("content/a.md", "---\ntitle: A\n---\n![One](./one.png)\n"),
            ("content/b.md", "---\ntitle: B\n---\n![Two](./two.png)\n"),
        ],
        &[
            ("content/one.png", png(&screenshot(240, 160, 18))),
            ("content/two.png", png(&screenshot(240, 160, 19))),
        ],
    );
    let mut loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    let cache = site.root().join(".docsite-cache/images");
    let entries = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let before = entries();
    assert_eq!(
        before.len(),
        6,
        "two images, three outputs each: {before:?}"
    );
    site.write_bytes("content/two.png", &png(&screenshot(240, 160, 20)));
    let path = site.root().join("content/two.png");
    // What serve does with it: one asset changed in place.
    let change = docsite::deps::classify(&loaded.site, site.root(), &path);
    assert!(
        matches!(change, docsite::deps::Change::Asset(_)),
        "{change:?}"
    );
    let outputs: Vec<String> = loaded
        .images
        .refresh("two.png", &path)
        .unwrap()
        .outputs
        .iter()
        .map(|o| o.rel.clone())
        .collect();
    let after = entries();
    let new: Vec<&String> = after.difference(&before).collect();
    assert_eq!(new.len(), 3, "only the changed image is encoded: {new:?}");
    assert!(before.is_subset(&after));
    assert!(matches!(
        loaded.reload_page("b.md"),
        docsite::build::Reloaded::Pages(_)
    ));
    let body = &loaded.bodies[loaded.site.page_index("b.md").unwrap()].html;
    for rel in &outputs {
        assert!(body.contains(rel.as_str()), "{rel} in {body}");
    }
}

#[test]
fn the_preview_shows_sources_until_outputs_exist_and_decodes_nothing_while_loading() {
    let site = site_with(
        &[("content/a.md", "---\ntitle: A\n---\n![Shot](./s.png)\n")],
        &[("content/s.png", png(&screenshot(300, 200, 3)))],
    );
    let options = docsite::build::LoadOptions {
        base_url: Some("/".into()),
        defer_images: true,
        ..Default::default()
    };
    let loaded = docsite::build::load(site.root(), &options).unwrap();
    let html = &loaded.bodies[0].html;
    assert!(
        html.contains("<img src=\"/s.png\" width=\"300\" height=\"200\" alt=\"Shot\""),
        "{html}"
    );
    assert!(!html.contains("srcset"), "{html}");
    assert!(
        !site.root().join(".docsite-cache/images").exists(),
        "nothing encoded"
    );
    let jobs = loaded.pending_images(None);
    assert_eq!(jobs.len(), 1);
    // Made (as a background worker makes it), the image is ready for the next load.
    for job in jobs {
        job.run().unwrap();
    }
    let loaded = docsite::build::load(site.root(), &options).unwrap();
    assert!(
        loaded.bodies[0].html.contains("srcset=\"/assets/s."),
        "{}",
        loaded.bodies[0].html
    );
    assert!(loaded.pending_images(None).is_empty());
}

#[test]
fn webp_sources_are_published_as_they_are_at_full_size() {
    // A lossy WebP screenshot with a copy, and an animated WebP (a copy would keep one frame).
    let shot = screenshot(600, 400, 4);
    let still = webp::Encoder::from_rgb(shot.as_raw(), 600, 400)
        .encode(82.0)
        .to_vec();
    let mut config = webp::WebPConfig::new().unwrap();
    config.lossless = 1;
    let frames: Vec<Vec<u8>> = [10u8, 200]
        .iter()
        .map(|&v| [v, v, 255 - v, 255].repeat(64 * 48))
        .collect();
    let mut anim = webp::AnimEncoder::new(64, 48, &config);
    for (i, f) in frames.iter().enumerate() {
        anim.add_frame(webp::AnimFrame::from_rgba(f, 64, 48, i as i32 * 100));
    }
    let moving = anim.try_encode().unwrap().to_vec();
    let site = site_with(
        &[(
            "content/a.md",
            "---\ntitle: A\n---\n![Still](./still.webp)\n\n![Moving](./moving.webp)\n",
        )],
        &[
            ("content/still.webp", still.clone()),
            ("content/moving.webp", moving.clone()),
        ],
    );
    std::fs::write(
        site.root().join("docsite.toml"),
        "title = \"T\"\n[images]\nwidths = [300]\n",
    )
    .unwrap();
    let summary = site.build().unwrap();
    // The still one's copy is the only encoder output.
    assert_eq!(summary.images.outputs_encoded, 1, "{}", summary.images);
    let html = std::fs::read_to_string(site.root().join("public/a/index.html")).unwrap_or_default();
    let public = |tag: &str| std::fs::read(site.root().join("public").join(&attr(tag, "src")[1..]));
    let tag = img_tag(&html, "/assets/still.");
    assert_eq!(
        public(tag).unwrap(),
        still,
        "the full size is the source's bytes"
    );
    assert!(attr(tag, "srcset").contains("-300w.webp 300w"), "{tag}");
    let tag = img_tag(&html, "/assets/moving.");
    assert_eq!(
        public(tag).unwrap(),
        moving,
        "an animation is published as it is"
    );
    assert!(!tag.contains("srcset"), "{tag}");
}
