//! The few header and question fields the forwarder reads straight from the bytes, so that an
//! upstream's answer is passed on as it came, without parsing and re-encoding it.

/// A DNS header's length.
pub const HEADER_LEN: usize = 12;
/// The longest a name may be on the wire (RFC 1035 3.1).
const MAX_NAME_LEN: usize = 255;

/// The message id.
pub fn id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

/// Whether TC is set.
pub fn truncated(msg: &[u8]) -> bool {
    msg.get(2).is_some_and(|b| b & 0x02 != 0)
}

/// Whether QR is set (a response).
pub fn is_response(msg: &[u8]) -> bool {
    msg.get(2).is_some_and(|b| b & 0x80 != 0)
}

/// The low 4 bits of the response code.
pub fn rcode(msg: &[u8]) -> Option<u8> {
    msg.get(3).map(|b| b & 0x0f)
}

/// The offset just past the name written plainly (labels, no compression pointer) at `start`,
/// if it is there whole and no longer than a name may be.
pub fn name_end(msg: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len & 0xc0 != 0 {
            return None;
        }
        at += 1 + len;
        if at - start > MAX_NAME_LEN {
            return None;
        }
        if len == 0 {
            return Some(at);
        }
    }
}

/// The offset just past the first question (name, type, class), if the message has one written
/// plainly (no compression pointer: the first name of a message cannot point back).
pub fn question_end(msg: &[u8]) -> Option<usize> {
    if msg.len() < HEADER_LEN || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
        return None;
    }
    let end = name_end(msg, HEADER_LEN)? + 4;
    (end <= msg.len()).then_some(end)
}

/// Whether `answer` answers `query`: a response with its id and the same first question (names
/// compared without case, as servers may change it).
pub fn answers(query: &[u8], answer: &[u8]) -> bool {
    if !is_response(answer) || id(query) != id(answer) {
        return false;
    }
    match (question_end(query), question_end(answer)) {
        (Some(q), Some(a)) => q == a && query[HEADER_LEN..q].eq_ignore_ascii_case(&answer[HEADER_LEN..a]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &[u8]) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        q.extend_from_slice(name);
        q.extend_from_slice(&[0, 1, 0, 1]);
        q
    }

    #[test]
    fn questions_are_found_and_compared() {
        let q = query(7, b"\x02db\x03app\x00");
        assert_eq!(question_end(&q), Some(q.len()));
        let mut a = query(7, b"\x02DB\x03app\x00");
        a[2] |= 0x80;
        assert!(answers(&q, &a));
        let mut other = query(8, b"\x02db\x03app\x00");
        other[2] |= 0x80;
        assert!(!answers(&q, &other), "another id");
        assert!(!answers(&q, &q), "not a response");
        assert_eq!(question_end(&query(1, b"\xc0\x0c")), None, "a pointer");
        assert_eq!(question_end(&q[..q.len() - 1]), None, "cut short");
        let long: Vec<u8> =
            std::iter::repeat_n(b"\x3faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".as_slice(), 5)
                .flatten()
                .copied()
                .chain([0])
                .collect();
        assert_eq!(question_end(&query(1, &long)), None, "a name over 255 bytes");
    }
}
