//! Content sniffing: what a file *is* by its magic bytes (never by what the client said),
//! and the pixel size of images from their headers. Pure functions over a byte prefix;
//! every read is bounds-checked, so truncated or hostile input yields `None`/`Err`, never a
//! panic.

/// The formats of the allow-list (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
    QuickTime,
    Webm,
    Pdf,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Mp4,
        Format::QuickTime,
        Format::Webm,
        Format::Pdf,
    ];

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Mp4 => "video/mp4",
            Format::QuickTime => "video/quicktime",
            Format::Webm => "video/webm",
            Format::Pdf => "application/pdf",
        }
    }

    /// The allow-listed format of a declared content type (parameters and case ignored;
    /// the common misspelling `image/jpg` is accepted).
    pub fn from_content_type(declared: &str) -> Option<Format> {
        let essence = declared
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == "image/jpg" {
            return Some(Format::Jpeg);
        }
        Format::ALL
            .into_iter()
            .find(|f| f.content_type() == essence)
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Webp | Format::Gif
        )
    }
}

/// The format `buf` (the start of a file) is in, if it is one of the allow-list.
pub fn sniff(buf: &[u8]) -> Option<Format> {
    if buf.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if buf.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if buf.starts_with(b"GIF87a") || buf.starts_with(b"GIF89a") {
        return Some(Format::Gif);
    }
    if buf.starts_with(b"RIFF") && buf.get(8..12) == Some(b"WEBP") {
        return Some(Format::Webp);
    }
    if buf.starts_with(b"%PDF-") {
        return Some(Format::Pdf);
    }
    if buf.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return (ebml_doctype(buf) == Some(b"webm".as_slice())).then_some(Format::Webm);
    }
    iso_bmff(buf)
}

/// MP4 brands (ISO base media, MPEG-4, H.264 and DASH profiles). HEIF/AVIF images share
/// the container and must not pass as video, hence a list rather than "any ftyp".
const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
    b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VP", b"M4VH", b"dash", b"MSNV", b"f4v ",
];

fn iso_bmff(buf: &[u8]) -> Option<Format> {
    let box_type = buf.get(4..8)?;
    if box_type != b"ftyp" {
        // QuickTime files from before `ftyp` start straight with one of these atoms.
        let legacy: [&[u8]; 4] = [b"moov", b"mdat", b"wide", b"pnot"];
        return legacy.contains(&box_type).then_some(Format::QuickTime);
    }
    let major = buf.get(8..12)?;
    if major == b"qt  " {
        return Some(Format::QuickTime);
    }
    if MP4_BRANDS.iter().any(|b| b.as_slice() == major) {
        return Some(Format::Mp4);
    }
    // Unusual major brand: decide by the compatible brands listed after the minor version.
    let size = usize::try_from(u32::from_be_bytes(buf.get(0..4)?.try_into().ok()?)).ok()?;
    let compatible = buf.get(16..size.min(buf.len()))?;
    let brands: Vec<&[u8]> = compatible.chunks_exact(4).collect();
    if brands.iter().any(|b| *b == b"mif1" || *b == b"msf1") {
        return None;
    }
    if brands.contains(&b"qt  ".as_slice()) {
        Some(Format::QuickTime)
    } else if brands
        .iter()
        .any(|b| MP4_BRANDS.iter().any(|m| m.as_slice() == *b))
    {
        Some(Format::Mp4)
    } else {
        None
    }
}

/// The EBML DocType ("webm", "matroska") near the start of an EBML header.
fn ebml_doctype(buf: &[u8]) -> Option<&[u8]> {
    let head = buf.get(..buf.len().min(64))?;
    let at = head.windows(2).position(|w| w == [0x42, 0x82])?;
    // The element size is a variable-length integer; a DocType fits the one-byte form
    // (marker bit 0x80 plus the length).
    let size_byte = *head.get(at + 2)?;
    if size_byte & 0x80 == 0 {
        return None;
    }
    let len = usize::from(size_byte & 0x7F);
    head.get(at + 3..at + 3 + len)
}

/// Pixel dimensions of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// Reads the dimensions of an image of format `f` from its first bytes. The error is a
/// reason a user can read.
pub fn dimensions(f: Format, buf: &[u8]) -> Result<Dimensions, &'static str> {
    let dims = match f {
        Format::Png => png(buf).ok_or("truncated or corrupt PNG header")?,
        Format::Gif => gif(buf).ok_or("truncated GIF header")?,
        Format::Webp => webp(buf).ok_or("truncated or unsupported WebP header")?,
        Format::Jpeg => jpeg(buf).ok_or("no JPEG frame header (SOF) found")?,
        _ => return Err("not an image"),
    };
    if dims.width == 0 || dims.height == 0 {
        return Err("image has a zero width or height");
    }
    Ok(dims)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(
        s.iter()
            .rev()
            .fold(0u32, |acc, &x| (acc << 8) | u32::from(x)),
    )
}

/// PNG: the first chunk must be IHDR (length 13): width and height, big-endian.
fn png(b: &[u8]) -> Option<Dimensions> {
    if be32(b, 8)? != 13 || b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some(Dimensions {
        width: be32(b, 16)?,
        height: be32(b, 20)?,
    })
}

/// GIF: the logical screen size follows the 6-byte signature, little-endian.
fn gif(b: &[u8]) -> Option<Dimensions> {
    Some(Dimensions {
        width: u32::from(le16(b, 6)?),
        height: u32::from(le16(b, 8)?),
    })
}

/// WebP: the first chunk after `RIFF....WEBP` is VP8 (lossy), VP8L (lossless) or VP8X
/// (extended, which carries the canvas size).
fn webp(b: &[u8]) -> Option<Dimensions> {
    let data = 20;
    match b.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3 bytes), then the key-frame start code, then 14-bit sizes.
            if b.get(data + 3..data + 6)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some(Dimensions {
                width: u32::from(le16(b, data + 6)? & 0x3FFF),
                height: u32::from(le16(b, data + 8)? & 0x3FFF),
            })
        }
        b"VP8L" => {
            if *b.get(data)? != 0x2F {
                return None;
            }
            let bits = le32(b, data + 1)?;
            Some(Dimensions {
                width: (bits & 0x3FFF) + 1,
                height: ((bits >> 14) & 0x3FFF) + 1,
            })
        }
        b"VP8X" => Some(Dimensions {
            width: le24(b, data + 4)? + 1,
            height: le24(b, data + 7)? + 1,
        }),
        _ => None,
    }
}

/// JPEG: walk the marker segments to the first start-of-frame; its header holds the
/// height and width. Stops at start-of-scan (no frame header before the image data).
fn jpeg(b: &[u8]) -> Option<Dimensions> {
    let mut at = 2;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while *b.get(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at + 1)?;
        at += 2;
        match marker {
            // Markers without a length: TEM, RSTn, SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image or start of scan before any frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = usize::from(be16(b, at)?);
        if len < 2 {
            return None;
        }
        // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some(Dimensions {
                height: u32::from(be16(b, at + 3)?),
                width: u32::from(be16(b, at + 5)?),
            });
        }
        at += len;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A valid 2×3 PNG's first 24 bytes (signature + IHDR).
    fn png_head(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0]);
        v
    }

    #[test]
    fn sniffs_each_allowed_format() {
        assert_eq!(sniff(&png_head(1, 1)), Some(Format::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"),
            Some(Format::Mp4)
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypqt  \0\0\x02\0qt  "),
            Some(Format::QuickTime)
        );
        let webm = [
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e',
            b'b', b'm',
        ];
        assert_eq!(sniff(&webm), Some(Format::Webm));
    }

    #[test]
    fn refuses_lookalikes() {
        assert_eq!(sniff(b"hello, I am a text file"), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        // HEIC: the MP4 container, but an image.
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), None);
        // Matroska that is not WebM.
        let mkv = [
            0x1A, 0x45, 0xDF, 0xA3, 0x42, 0x82, 0x88, b'm', b'a', b't', b'r', b'o', b's', b'k',
            b'a',
        ];
        assert_eq!(sniff(&mkv), None);
        assert_eq!(sniff(&[]), None);
    }

    #[test]
    fn png_gif_webp_dimensions() {
        assert_eq!(
            dimensions(Format::Png, &png_head(2, 3)),
            Ok(Dimensions {
                width: 2,
                height: 3
            })
        );
        assert_eq!(
            dimensions(Format::Gif, b"GIF89a\x40\x01\xF0\x00").unwrap(),
            Dimensions {
                width: 320,
                height: 240
            }
        );
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3F, 0x01, 0x00, 0xC7, 0x00, 0x00]); // 320 x 200
        assert_eq!(
            dimensions(Format::Webp, &vp8x).unwrap(),
            Dimensions {
                width: 320,
                height: 200
            }
        );
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2F".to_vec();
        let bits: u32 = (99) | (49 << 14); // 100 x 50
        vp8l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(
            dimensions(Format::Webp, &vp8l).unwrap(),
            Dimensions {
                width: 100,
                height: 50
            }
        );
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        vp8.extend_from_slice(&[0, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]); // 640x480
        assert_eq!(
            dimensions(Format::Webp, &vp8).unwrap(),
            Dimensions {
                width: 640,
                height: 480
            }
        );
    }

    #[test]
    fn jpeg_walks_segments_to_the_frame_header() {
        let mut j = vec![0xFF, 0xD8];
        // APP0 with 14 bytes of payload, then a fill byte, then SOF2 (progressive).
        j.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        j.extend_from_slice(&[0; 14]);
        j.extend_from_slice(&[0xFF, 0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80]);
        assert_eq!(
            dimensions(Format::Jpeg, &j).unwrap(),
            Dimensions {
                width: 640,
                height: 480
            }
        );
        // A DHT segment (0xC4) is not a frame header.
        let mut d = vec![0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00];
        d.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02]);
        assert!(dimensions(Format::Jpeg, &d).is_err());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        j.extend_from_slice(&[0; 14]);
        j.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80]);
        let inputs: Vec<(Format, Vec<u8>)> = vec![
            (Format::Png, png_head(5, 7)[..24].to_vec()),
            (Format::Gif, b"GIF89a\x40\x01\xF0\x00".to_vec()),
            (Format::Jpeg, j),
            (
                Format::Webp,
                b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\x3F\x01\x00\xC7\x00\x00".to_vec(),
            ),
        ];
        for (f, full) in inputs {
            assert!(dimensions(f, &full).is_ok(), "{f:?} full");
            for cut in 0..full.len() {
                assert!(dimensions(f, &full[..cut]).is_err(), "{f:?} cut at {cut}");
                let _ = sniff(&full[..cut]);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)
        ) {
            for f in Format::ALL {
                let _ = dimensions(f, &bytes);
            }
            let _ = sniff(&bytes);
            let mut jpeg = vec![0xFF, 0xD8];
            jpeg.extend_from_slice(&bytes);
            let _ = dimensions(Format::Jpeg, &jpeg);
        }
    }
}
