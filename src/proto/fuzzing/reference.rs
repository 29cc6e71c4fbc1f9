//! A reference framer: the wire rules of `proto::frame` applied to a whole input
//! at once, written as plainly as possible and independently of [`MsnpCodec`]. The
//! framing harness compares the incremental codec against it, which catches
//! off-by-one errors in the limits that a split-versus-whole comparison cannot.
//!
//! [`MsnpCodec`]: crate::proto::MsnpCodec

use bytes::Bytes;

use crate::proto::command::TrId;
use crate::proto::error_code::ErrorCode;
use crate::proto::{Frame, FrameLimits};

use super::framing::{End, Outcome, payload_bound};

/// The second space-separated token of `line`, as a TrID if decimal.
fn raw_trid(line: &[u8]) -> Option<TrId> {
    let token = line
        .split(|&b| b == b' ')
        .filter(|t| !t.is_empty())
        .nth(1)?;
    if !token.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

fn error(kind: &str, trid: Option<TrId>, code: Option<ErrorCode>) -> End {
    End::Error {
        kind: kind.to_owned(),
        trid,
        code,
    }
}

/// Frames all of `data` (a stream that then ended) by the documented rules.
pub fn reference_decode(limits: FrameLimits, data: &[u8]) -> Outcome {
    let mut frames = Vec::new();
    let mut pos = 0;
    let end = loop {
        if pos == data.len() {
            break End::Clean;
        }
        let window = &data[pos..data.len().min(pos + limits.max_line)];
        let Some(newline) = window.iter().position(|&b| b == b'\n') else {
            break if data.len() - pos >= limits.max_line {
                error("LineTooLong", None, None)
            } else {
                error("Io(UnexpectedEof)", None, None)
            };
        };
        let mut raw = &data[pos..pos + newline];
        pos += newline + 1;
        if let Some(stripped) = raw.strip_suffix(b"\r") {
            raw = stripped;
        }
        if raw.is_empty() {
            continue;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            break error("InvalidUtf8", raw_trid(raw), Some(ErrorCode::SyntaxError));
        };
        let tokens: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
        let verb = tokens.first().copied().unwrap_or("");
        let Some(bound) = payload_bound(limits, verb) else {
            frames.push(Frame {
                line: line.to_owned(),
                payload: None,
            });
            continue;
        };
        let trid = raw_trid(raw);
        let last = if tokens.len() > 1 {
            tokens[tokens.len() - 1]
        } else {
            ""
        };
        if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
            break error("BadPayloadLength", trid, Some(ErrorCode::SyntaxError));
        }
        let len = match last.parse::<usize>() {
            Ok(len) if len <= bound => len,
            _ => {
                let kind = format!("PayloadTooLarge({})", verb.to_ascii_uppercase());
                break error(&kind, trid, Some(ErrorCode::InvalidParameter));
            }
        };
        if data.len() - pos < len {
            break error("Io(UnexpectedEof)", None, None);
        }
        frames.push(Frame {
            line: line.to_owned(),
            payload: Some(Bytes::copy_from_slice(&data[pos..pos + len])),
        });
        pos += len;
    };
    Outcome { frames, end }
}
