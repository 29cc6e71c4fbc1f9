//! What kind of content a client's `MSG` payload carries, read from its MIME
//! header block: only instant messages (`text/plain`) are stored for offline
//! recipients and kept in history; typing notices, invitations, P2P data,
//! emoticon definitions, nudges and ink are relayed live only.

/// Whether `payload` is an instant message: its header block (up to the first
/// empty line) has a `Content-Type` of `text/plain`, parameters allowed. Header
/// names and the media type are compared without regard to case; a payload
/// without an empty line or without a `Content-Type` is not a text message.
pub fn is_instant_message(payload: &[u8]) -> bool {
    let Some(end) = payload.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let Some(headers) = payload.get(..end) else {
        return false;
    };
    let mut content_type = None;
    for line in headers.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        if name.trim_ascii().eq_ignore_ascii_case(b"Content-Type") {
            content_type = value.get(1..).map(<[u8]>::trim_ascii);
            break;
        }
    }
    let Some(value) = content_type else {
        return false;
    };
    let media = value
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    media.eq_ignore_ascii_case(b"text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_messages() {
        for payload in [
            &b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial\r\n\r\nhi"[..],
            b"Content-Type: text/plain\r\n\r\n",
            b"MIME-Version: 1.0\r\ncontent-type:TEXT/PLAIN ;charset=UTF-8\r\n\r\nhi",
        ] {
            assert!(is_instant_message(payload), "{payload:?}");
        }
    }

    #[test]
    fn other_content_is_not() {
        for payload in [
            &b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: a@b.com\r\n\r\n\r\n"[..],
            b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nInvitation-Command: INVITE\r\n",
            b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: a@b.com\r\n\r\n",
            b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n",
            b"MIME-Version: 1.0\r\nContent-Type: text/plainish\r\n\r\nhi",
            // No header block end, no Content-Type, empty, body-only Content-Type.
            b"Content-Type: text/plain",
            b"MIME-Version: 1.0\r\n\r\nContent-Type: text/plain\r\n\r\n",
            b"",
            b"\r\n\r\n",
        ] {
            assert!(!is_instant_message(payload), "{payload:?}");
        }
    }
}
