//! Just enough VP8 to meter a camera without decoding it (RFC 6386 §9.1).
//!
//! str0m depacketizes the RTP payloads (it strips the RFC 7741 payload descriptor and joins the
//! packets of a frame), so what arrives here is a whole VP8 frame. Its first three bytes are the
//! frame tag (bit 0: 0 = keyframe; bits 5..24: the first partition's size); a keyframe follows
//! with the start code `9d 01 2a` and two little-endian 16-bit fields, 14 bits of width and of
//! height (the top two bits are the scaling mode).

/// What the frame header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// An intra frame (decodable on its own).
    pub keyframe: bool,
    /// Width and height, for a keyframe with a valid start code.
    pub size: Option<(u16, u16)>,
}

const START_CODE: [u8; 3] = [0x9d, 0x01, 0x2a];

/// Reads the frame tag (and a keyframe's size); `None` when the frame is too short to have a tag
/// or claims to be a keyframe without the start code (junk, not a frame a camera sent).
pub fn parse_frame(frame: &[u8]) -> Option<FrameHeader> {
    let tag = frame.get(..3)?;
    let keyframe = tag[0] & 1 == 0;
    if !keyframe {
        return Some(FrameHeader {
            keyframe: false,
            size: None,
        });
    }
    let header = frame.get(3..10)?;
    if header[..3] != START_CODE {
        return None;
    }
    let width = u16::from_le_bytes([header[3], header[4]]) & 0x3fff;
    let height = u16::from_le_bytes([header[5], header[6]]) & 0x3fff;
    Some(FrameHeader {
        keyframe: true,
        size: Some((width, height)),
    })
}

/// Writes a synthetic VP8 frame of `len` bytes (at least 10) with a valid frame tag and, for a
/// keyframe, the start code and size; the rest is filler. Used by the test client.
pub fn synthetic_frame(keyframe: bool, width: u16, height: u16, len: usize, fill: u8) -> Vec<u8> {
    let len = len.max(10);
    let mut frame = vec![fill; len];
    // Frame tag: keyframe bit (0 = key), version 0, show_frame 1, first partition size.
    let first_partition = ((len - 10) as u32).min(0x7ffff);
    let tag = u32::from(!keyframe) | (1 << 4) | (first_partition << 5);
    frame[..3].copy_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        frame[3..6].copy_from_slice(&START_CODE);
        frame[6..8].copy_from_slice(&(width & 0x3fff).to_le_bytes());
        frame[8..10].copy_from_slice(&(height & 0x3fff).to_le_bytes());
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_keyframe_reads_back_with_its_size() {
        let frame = synthetic_frame(true, 640, 480, 5_000, 7);
        assert_eq!(
            parse_frame(&frame),
            Some(FrameHeader {
                keyframe: true,
                size: Some((640, 480))
            })
        );
    }

    #[test]
    fn a_delta_frame_has_no_size() {
        let frame = synthetic_frame(false, 640, 480, 800, 7);
        assert_eq!(
            parse_frame(&frame),
            Some(FrameHeader {
                keyframe: false,
                size: None
            })
        );
    }

    #[test]
    fn odd_input_is_refused_without_panicking() {
        assert_eq!(parse_frame(&[]), None);
        assert_eq!(parse_frame(&[0, 1]), None);
        // A keyframe tag without the start code, and one cut short.
        assert_eq!(parse_frame(&[0, 0, 0, 1, 2, 3, 4, 5, 6, 7]), None);
        assert_eq!(parse_frame(&[0, 0, 0, 0x9d, 0x01]), None);
        for len in 0..16 {
            let _ = parse_frame(&vec![0xff; len]);
            let _ = parse_frame(&vec![0x00; len]);
        }
    }

    #[test]
    fn the_scaling_bits_are_not_part_of_the_size() {
        let mut frame = synthetic_frame(true, 1280, 720, 100, 0);
        frame[7] |= 0xc0;
        frame[9] |= 0x40;
        assert_eq!(parse_frame(&frame).and_then(|h| h.size), Some((1280, 720)));
    }
}
