//! The one thing the demultiplexer reads from a STUN message: the local ICE username fragment
//! of a binding request (RFC 8489 USERNAME is `"<ours>:<theirs>"` on requests to us).

/// True when the datagram looks like STUN (RFC 7983: first byte 0..=3, magic cookie).
pub fn is_stun(data: &[u8]) -> bool {
    data.len() >= 20 && data[0] < 4 && data[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

/// Our ufrag from a STUN message's USERNAME attribute; `None` for anything else or malformed.
pub fn local_ufrag(data: &[u8]) -> Option<&str> {
    if !is_stun(data) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let body = data.get(20..20 + length)?;
    let mut rest = body;
    while rest.len() >= 4 {
        let kind = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let value = rest.get(4..4 + len)?;
        if kind == 0x0006 {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next().filter(|u| !u.is_empty());
        }
        let padded = (len + 3) & !3;
        rest = rest.get(4 + padded..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request(username: &[u8]) -> Vec<u8> {
        let mut attrs = vec![0x00, 0x06];
        attrs.extend((username.len() as u16).to_be_bytes());
        attrs.extend(username);
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        let mut msg = vec![0x00, 0x01];
        msg.extend((attrs.len() as u16).to_be_bytes());
        msg.extend([0x21, 0x12, 0xa4, 0x42]);
        msg.extend([7; 12]);
        msg.extend(attrs);
        msg
    }

    #[test]
    fn the_local_fragment_comes_from_the_username() {
        assert_eq!(local_ufrag(&binding_request(b"srv1:cli2")), Some("srv1"));
    }

    #[test]
    fn junk_is_not_stun_and_never_panics() {
        assert_eq!(local_ufrag(&[]), None);
        assert_eq!(local_ufrag(&[0x80; 40]), None);
        let mut cut = binding_request(b"srv1:cli2");
        cut.truncate(26);
        assert_eq!(local_ufrag(&cut), None);
        let mut lying = binding_request(b"srv1:cli2");
        lying[2] = 0xff;
        assert_eq!(local_ufrag(&lying), None);
        let whole = binding_request(b"x:y");
        for len in 0..=whole.len() {
            let _ = local_ufrag(&whole[..len]);
        }
    }
}
