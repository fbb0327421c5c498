//! Frames: how messages are cut out of a TCP byte stream.
//!
//! TCP delivers bytes, not messages, so every message travels as a frame:
//!
//! ```text
//! [u32 LE: length of the rest][u32 LE: header length][header: postcard Message][payload bytes]
//! ```
//!
//! The header is small and structured (a [`Message`] encoded with
//! postcard); the payload carries the bulk data of results (serialized values, raw array
//! buffers) so that they are copied once into the socket buffer and never re-encoded. A length
//! prefix, rather than a delimiter, lets the reader know up front how much to wait for, and lets it
//! refuse a frame larger than [`FrameLimits::max_frame`] before allocating anything: a peer that
//! sends garbage or a hostile length is disconnected with a reason instead of making the process
//! allocate gigabytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::message::Message;

/// Bytes before the header: the frame length and the header length.
pub const PREFIX: usize = 8;

/// The largest frame accepted by default: 1 GiB.
pub const DEFAULT_MAX_FRAME: usize = 1 << 30;

/// Limits applied when reading frames.
///
/// ```
/// use dusk_scheduler::distributed::frame::FrameLimits;
/// assert_eq!(FrameLimits::default().max_frame, 1 << 30);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    /// The largest frame (header plus payload) a reader accepts.
    pub max_frame: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

/// Why bytes on a connection are not a valid frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The announced frame is larger than the limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The header length does not fit inside the frame.
    #[error("header of {header} bytes does not fit in a frame of {len} bytes")]
    BadHeaderLength {
        /// The announced header length.
        header: usize,
        /// The frame length.
        len: usize,
    },
    /// The header is not a message of this protocol.
    #[error("undecodable message header: {0}")]
    Header(String),
    /// The connection closed in the middle of a frame.
    #[error("connection closed in the middle of a frame ({have} of {need} bytes received)")]
    Truncated {
        /// Bytes received.
        have: usize,
        /// Bytes the frame needs.
        need: usize,
    },
    /// A message could not be encoded.
    #[error("could not encode a message: {0}")]
    Encode(String),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Appends one frame holding `message` and the concatenation of `payload` to `buf`.
///
/// ```
/// use bytes::BytesMut;
/// use dusk_scheduler::distributed::frame::{encode, parse, FrameLimits};
/// use dusk_scheduler::distributed::message::Message;
/// let mut buf = BytesMut::new();
/// encode(&Message::Heartbeat(Default::default()), &[b"abc"], &mut buf).unwrap();
/// let (msg, payload) = parse(&mut buf, FrameLimits::default()).unwrap().unwrap();
/// assert!(matches!(msg, Message::Heartbeat(_)));
/// assert_eq!(&payload[..], b"abc");
/// assert!(buf.is_empty());
/// ```
pub fn encode<P: AsRef<[u8]>>(
    message: &Message,
    payload: &[P],
    buf: &mut BytesMut,
) -> Result<(), FrameError> {
    let start = buf.len();
    buf.put_u32_le(0);
    buf.put_u32_le(0);
    let header_start = buf.len();
    postcard::serialize_with_flavor(message, BufFlavor(buf))
        .map_err(|e| FrameError::Encode(e.to_string()))?;
    let header_len = buf.len() - header_start;
    for p in payload {
        buf.extend_from_slice(p.as_ref());
    }
    let total = buf.len() - start - 4;
    let total32 = u32::try_from(total).map_err(|_| FrameError::TooLarge {
        len: total,
        max: u32::MAX as usize,
    })?;
    buf[start..start + 4].copy_from_slice(&total32.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&(header_len as u32).to_le_bytes());
    Ok(())
}

/// Lets postcard write a header straight into the frame buffer, a slice at a time.
struct BufFlavor<'a>(&'a mut BytesMut);

impl postcard::ser_flavors::Flavor for BufFlavor<'_> {
    type Output = ();

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.put_u8(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Cuts one frame off the front of `buf`: `Ok(None)` if more bytes are needed, an error if the
/// bytes can never become a valid frame.
pub fn parse(
    buf: &mut BytesMut,
    limits: FrameLimits,
) -> Result<Option<(Message, Bytes)>, FrameError> {
    split(buf, limits)?.map(RawFrame::decode).transpose()
}

/// A frame cut out of the stream whose header is not decoded yet: decoding the header of a
/// large message (a graph of a million tasks) takes long enough that a server may want to do
/// it away from the thread serving its other connections.
///
/// ```
/// use bytes::BytesMut;
/// use dusk_scheduler::distributed::frame::{encode, split, FrameLimits};
/// use dusk_scheduler::distributed::message::Message;
/// let mut buf = BytesMut::new();
/// encode(&Message::GetWorkers, &[b"xy"], &mut buf).unwrap();
/// let raw = split(&mut buf, FrameLimits::default()).unwrap().unwrap();
/// assert!(raw.header_len() > 0);
/// let (message, payload) = raw.decode().unwrap();
/// assert!(matches!(message, Message::GetWorkers));
/// assert_eq!(&payload[..], b"xy");
/// ```
#[derive(Debug, Clone)]
pub struct RawFrame {
    header: Bytes,
    payload: Bytes,
}

impl RawFrame {
    /// The size of the encoded header, in bytes (what decoding costs).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use dusk_scheduler::distributed::frame::{encode, split, FrameLimits};
    /// use dusk_scheduler::distributed::message::Message;
    /// let mut buf = BytesMut::new();
    /// encode(&Message::GetWorkers, &[b"payload"], &mut buf).unwrap();
    /// let raw = split(&mut buf, FrameLimits::default()).unwrap().unwrap();
    /// assert_eq!(raw.header_len(), 1, "one byte: the variant");
    /// ```
    pub fn header_len(&self) -> usize {
        self.header.len()
    }

    /// Decodes the header; returns the message and the payload.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use dusk_scheduler::distributed::frame::{encode, split, FrameLimits};
    /// use dusk_scheduler::distributed::message::Message;
    /// let mut buf = BytesMut::new();
    /// encode(&Message::GetWorkers, &[b""], &mut buf).unwrap();
    /// let raw = split(&mut buf, FrameLimits::default()).unwrap().unwrap();
    /// assert!(matches!(raw.decode().unwrap().0, Message::GetWorkers));
    /// ```
    pub fn decode(self) -> Result<(Message, Bytes), FrameError> {
        let message: Message =
            postcard::from_bytes(&self.header).map_err(|e| FrameError::Header(e.to_string()))?;
        Ok((message, self.payload))
    }
}

/// Like [`parse`], without decoding the header.
///
/// ```
/// use bytes::BytesMut;
/// use dusk_scheduler::distributed::frame::{split, FrameLimits};
/// let mut buf = BytesMut::from(&[5u8, 0, 0][..]);
/// assert!(split(&mut buf, FrameLimits::default()).unwrap().is_none(), "more bytes needed");
/// ```
pub fn split(buf: &mut BytesMut, limits: FrameLimits) -> Result<Option<RawFrame>, FrameError> {
    match check(buf, limits)? {
        None => Ok(None),
        Some((len, header_len)) => {
            buf.advance(PREFIX);
            let mut payload = buf.split_to(len - 4).freeze();
            let header = payload.split_to(header_len);
            Ok(Some(RawFrame { header, payload }))
        }
    }
}

/// How many bytes the frame at the front of `buf` still needs (0 when complete), after
/// validating its prefix.
pub fn missing(buf: &[u8], limits: FrameLimits) -> Result<usize, FrameError> {
    if buf.len() < PREFIX {
        return Ok(PREFIX - buf.len());
    }
    let (len, _) = prefix(buf, limits)?;
    Ok((len + 4).saturating_sub(buf.len()))
}

fn prefix(buf: &[u8], limits: FrameLimits) -> Result<(usize, usize), FrameError> {
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let header = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if len > limits.max_frame {
        return Err(FrameError::TooLarge {
            len,
            max: limits.max_frame,
        });
    }
    if len < 4 || header > len - 4 || header == 0 {
        return Err(FrameError::BadHeaderLength { header, len });
    }
    Ok((len, header))
}

fn check(buf: &[u8], limits: FrameLimits) -> Result<Option<(usize, usize)>, FrameError> {
    if buf.len() < PREFIX {
        return Ok(None);
    }
    let (len, header) = prefix(buf, limits)?;
    if buf.len() < len + 4 {
        return Ok(None);
    }
    Ok(Some((len, header)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::message::{Heartbeat, Message};

    fn beat(n: u64) -> Message {
        Message::Heartbeat(Heartbeat {
            tasks_run: n,
            ..Default::default()
        })
    }

    #[test]
    fn round_trip_of_several_frames() {
        let mut buf = BytesMut::new();
        encode(&beat(1), &[b"xy".as_slice()], &mut buf).unwrap();
        encode(&beat(2), &[b"".as_slice()], &mut buf).unwrap();
        let (m1, p1) = parse(&mut buf, FrameLimits::default()).unwrap().unwrap();
        let (m2, p2) = parse(&mut buf, FrameLimits::default()).unwrap().unwrap();
        assert!(matches!(m1, Message::Heartbeat(h) if h.tasks_run == 1));
        assert!(matches!(m2, Message::Heartbeat(h) if h.tasks_run == 2));
        assert_eq!(&p1[..], b"xy");
        assert!(p2.is_empty());
        assert!(parse(&mut buf, FrameLimits::default()).unwrap().is_none());
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let mut full = BytesMut::new();
        encode(&beat(7), &[vec![9u8; 100]], &mut full).unwrap();
        for cut in 0..full.len() {
            let mut part = BytesMut::from(&full[..cut]);
            assert!(parse(&mut part, FrameLimits::default()).unwrap().is_none());
            assert!(missing(&part, FrameLimits::default()).unwrap() > 0);
        }
    }

    #[test]
    fn oversize_frames_are_refused_before_allocation() {
        let mut buf = BytesMut::new();
        encode(&beat(1), &[vec![0u8; 1000]], &mut buf).unwrap();
        let err = parse(&mut buf, FrameLimits { max_frame: 100 }).unwrap_err();
        assert!(
            matches!(err, FrameError::TooLarge { max: 100, .. }),
            "{err}"
        );
        let mut hostile = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0][..]);
        assert!(parse(&mut hostile, FrameLimits::default()).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
        assert!(parse(&mut buf, FrameLimits::default()).is_err());
        // A plausible prefix around an undecodable header.
        let mut buf = BytesMut::new();
        buf.put_u32_le(8);
        buf.put_u32_le(4);
        buf.put_slice(&[0xff, 0xff, 0xff, 0xff]);
        let err = parse(&mut buf, FrameLimits::default()).unwrap_err();
        assert!(matches!(err, FrameError::Header(_)), "{err}");
        // A header length larger than the frame.
        let mut buf = BytesMut::new();
        buf.put_u32_le(8);
        buf.put_u32_le(40);
        buf.put_slice(&[0; 4]);
        assert!(matches!(
            parse(&mut buf, FrameLimits::default()).unwrap_err(),
            FrameError::BadHeaderLength { .. }
        ));
    }
}
