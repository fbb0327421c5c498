//! Connections: reading frames from a socket, writing them with few syscalls, and the
//! handshake every connection starts with.
//!
//! Reading and writing are split. A [`FrameReader`] owns the read half and a growable buffer.
//! Writes go through a channel to one writer task per connection ([`spawn_writer`]): the task
//! encodes every message waiting in the channel into one buffer and hands it to the kernel in one
//! `write`, so a burst of small messages (a thousand task results) costs one syscall instead of a
//! thousand, and the code producing messages never waits on the network.
//!
//! The handshake ([`handshake`], [`accept`]) exchanges [`Hello`]s and refuses a peer of another
//! protocol or dusk version with a [`Message::Refused`] saying why, before any other message is
//! read.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::frame::{self, FrameError, FrameLimits, RawFrame};
use super::message::{BuildId, Hello, Message, Role};
use super::DistributedError;

/// How long a peer may take to say hello.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Stop coalescing writes once this many bytes are buffered.
const WRITE_BATCH: usize = 1 << 20;

/// Reads frames from the read half of a socket.
pub struct FrameReader {
    socket: OwnedReadHalf,
    buf: BytesMut,
    limits: FrameLimits,
}

impl FrameReader {
    /// Wraps a read half.
    pub fn new(socket: OwnedReadHalf, limits: FrameLimits) -> FrameReader {
        FrameReader {
            socket,
            buf: BytesMut::with_capacity(64 * 1024),
            limits,
        }
    }

    /// The next frame; `Ok(None)` when the peer closed the connection between frames.
    pub async fn read(&mut self) -> Result<Option<(Message, Bytes)>, FrameError> {
        self.read_raw().await?.map(RawFrame::decode).transpose()
    }

    /// The next frame with its header not decoded yet (see [`RawFrame`]); `Ok(None)` when the
    /// peer closed the connection between frames.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use dusk_scheduler::distributed::connection::FrameReader;
    /// use dusk_scheduler::distributed::frame::{encode, FrameLimits};
    /// use dusk_scheduler::distributed::message::Message;
    /// use tokio::io::AsyncWriteExt;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// rt.block_on(async {
    ///     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut peer = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
    ///         .await
    ///         .unwrap();
    ///     let (socket, _) = listener.accept().await.unwrap();
    ///     let mut buf = BytesMut::new();
    ///     encode(&Message::GetWorkers, &[b""], &mut buf).unwrap();
    ///     peer.write_all(&buf).await.unwrap();
    ///     drop(peer);
    ///     let mut reader = FrameReader::new(socket.into_split().0, FrameLimits::default());
    ///     let raw = reader.read_raw().await.unwrap().unwrap();
    ///     assert!(matches!(raw.decode().unwrap().0, Message::GetWorkers));
    ///     assert!(reader.read_raw().await.unwrap().is_none(), "closed between frames");
    /// });
    /// ```
    pub async fn read_raw(&mut self) -> Result<Option<RawFrame>, FrameError> {
        loop {
            if let Some(frame) = frame::split(&mut self.buf, self.limits)? {
                return Ok(Some(frame));
            }
            let need = frame::missing(&self.buf, self.limits)?;
            // Grow with the bytes that actually arrive: a length prefix alone (which could be
            // a lie) never makes us allocate the whole frame.
            self.buf.reserve(need.clamp(4096, 1 << 20));
            if self.socket.read_buf(&mut self.buf).await? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(FrameError::Truncated {
                    have: self.buf.len(),
                    need: self.buf.len() + need,
                });
            }
        }
    }
}

/// A message waiting to be written, with the bytes of its payload.
#[derive(Debug)]
pub struct Outgoing {
    /// The header.
    pub message: Message,
    /// The payload pieces, concatenated on the wire.
    pub payload: Vec<Bytes>,
}

impl From<Message> for Outgoing {
    fn from(message: Message) -> Outgoing {
        Outgoing {
            message,
            payload: Vec::new(),
        }
    }
}

/// The sending side of a connection: cheap to clone, never blocks.
pub type Sender = mpsc::UnboundedSender<Outgoing>;

/// Starts the task writing everything sent on the returned [`Sender`] to `socket`. The task ends
/// when every sender is dropped or the socket fails.
pub fn spawn_writer(mut socket: OwnedWriteHalf) -> Sender {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        while let Some(first) = rx.recv().await {
            let mut next = Some(first);
            while let Some(out) = next.take() {
                if let Err(e) = frame::encode(&out.message, &out.payload, &mut buf) {
                    super::log_warn(format_args!("dropping an unencodable message: {e}"));
                }
                if buf.len() < WRITE_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            if socket.write_all(&buf).await.is_err() {
                return;
            }
            buf.clear();
        }
        let _ = socket.shutdown().await;
    });
    tx
}

/// Connects the client side: sends our hello, waits for `Welcome` (returning the id it gives)
/// or `Refused`.
pub async fn handshake(
    stream: TcpStream,
    role: Role,
    limits: FrameLimits,
) -> Result<(FrameReader, OwnedWriteHalf, u64), DistributedError> {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = FrameReader::new(read, limits);
    let mut buf = BytesMut::new();
    let hello = Message::Hello(Hello {
        build: BuildId::current(),
        role,
    });
    frame::encode::<&[u8]>(&hello, &[], &mut buf)?;
    write.write_all(&buf).await.map_err(FrameError::Io)?;
    let reply = tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.read())
        .await
        .map_err(|_| DistributedError::Handshake("no reply to hello".into()))??;
    match reply {
        Some((Message::Welcome { id }, _)) => Ok((reader, write, id)),
        Some((Message::Refused { reason }, _)) => Err(DistributedError::Refused(reason)),
        Some((other, _)) => Err(DistributedError::Handshake(format!(
            "unexpected reply to hello: {}",
            message_name(&other)
        ))),
        None => Err(DistributedError::Handshake(
            "the peer closed the connection during the handshake".into(),
        )),
    }
}

/// Accepts the server side: reads the peer's hello and checks its build. On a mismatch, sends
/// `Refused` and returns the reason as an error. The caller sends `Welcome`.
pub async fn accept(
    stream: TcpStream,
    limits: FrameLimits,
) -> Result<(FrameReader, OwnedWriteHalf, Hello), DistributedError> {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = FrameReader::new(read, limits);
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.read())
        .await
        .map_err(|_| DistributedError::Handshake("no hello within the timeout".into()))??;
    let hello = match first {
        Some((Message::Hello(h), _)) => h,
        Some((other, _)) => {
            return Err(DistributedError::Handshake(format!(
                "expected hello, got {}",
                message_name(&other)
            )))
        }
        None => {
            return Err(DistributedError::Handshake(
                "closed before saying hello".into(),
            ))
        }
    };
    if let Some(reason) = BuildId::current().mismatch(&hello.build) {
        let mut buf = BytesMut::new();
        let reason = format!("refused: the peer's {reason}");
        frame::encode::<&[u8]>(
            &Message::Refused {
                reason: reason.clone(),
            },
            &[],
            &mut buf,
        )?;
        let _ = write.write_all(&buf).await;
        return Err(DistributedError::Refused(reason));
    }
    Ok((reader, write, hello))
}

/// Writes one message directly (for replies during a handshake).
pub async fn write_now(write: &mut OwnedWriteHalf, message: &Message) -> Result<(), FrameError> {
    let mut buf = BytesMut::new();
    frame::encode::<&[u8]>(message, &[], &mut buf)?;
    write.write_all(&buf).await?;
    Ok(())
}

/// The variant name of a message, for logs.
pub fn message_name(m: &Message) -> &'static str {
    match m {
        Message::Hello(_) => "Hello",
        Message::Welcome { .. } => "Welcome",
        Message::Refused { .. } => "Refused",
        Message::UpdateGraph { .. } => "UpdateGraph",
        Message::Release { .. } => "Release",
        Message::GraphRefused { .. } => "GraphRefused",
        Message::Ready { .. } => "Ready",
        Message::Erred { .. } => "Erred",
        Message::Compute { .. } => "Compute",
        Message::Free { .. } => "Free",
        Message::Steal { .. } => "Steal",
        Message::Stolen { .. } => "Stolen",
        Message::WorkerStatus { .. } => "WorkerStatus",
        Message::Finished { .. } => "Finished",
        Message::Failed { .. } => "Failed",
        Message::Heartbeat(_) => "Heartbeat",
        Message::GetData { .. } => "GetData",
        Message::Data { .. } => "Data",
        Message::GetWorkers => "GetWorkers",
        Message::Workers { .. } => "Workers",
        Message::GetSchedulerInfo => "GetSchedulerInfo",
        Message::SchedulerInfo(_) => "SchedulerInfo",
        Message::Cancel { .. } => "Cancel",
        Message::Cancelled { .. } => "Cancelled",
        Message::CancelCompute { .. } => "CancelCompute",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatched_build_is_refused_with_the_reason() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                accept(s, FrameLimits::default()).await
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (_r, mut w) = stream.into_split();
            let mut build = BuildId::current();
            build.dusk_version = "0.0.0-other".into();
            let hello = Message::Hello(Hello {
                build,
                role: Role::Client,
            });
            write_now(&mut w, &hello).await.unwrap();
            let err = match server.await.unwrap() {
                Ok(_) => panic!("a mismatched build was accepted"),
                Err(e) => e.to_string(),
            };
            assert!(err.contains("0.0.0-other"), "{err}");
        });
    }
}
