//! The baseline of bench/dns: a single-threaded UDP responder that answers every query with one
//! fixed A record (192.0.2.1), copying the query's id and question, with no parsing beyond
//! finding the question's end. Usage: `trivial_responder ADDR:PORT`.

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:5300".into());
    let sock = UdpSocket::bind(&addr)?;
    let mut buf = [0u8; 4096];
    let mut out = Vec::with_capacity(512);
    loop {
        let (n, peer) = sock.recv_from(&mut buf)?;
        let q = &buf[..n];
        // The end of the first question: labels up to the root, then type and class.
        let mut at = 12;
        while at < n && q[at] != 0 {
            at += 1 + usize::from(q[at]);
        }
        let end = at + 5;
        if n < 12 || end > n {
            continue;
        }
        out.clear();
        out.extend_from_slice(&q[0..2]);
        out.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        out.extend_from_slice(&q[12..end]);
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        let _ = sock.send_to(&out, peer);
    }
}
