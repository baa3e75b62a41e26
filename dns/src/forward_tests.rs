//! Tests of forwarding against fake upstream servers on loopback, started by each test.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use super::*;

const TIMEOUT: Duration = Duration::from_millis(300);

/// How a fake server behaves.
#[derive(Clone, Copy)]
enum Fake {
    /// Answers with this last octet (192.0.2.x).
    Answer(u8),
    Rcode(ResponseCode),
    Silent,
    /// A packet with another id first, then the answer.
    SpoofFirst(u8),
    /// Over UDP: TC and no answers; over TCP: the answer.
    TruncatedOverUdp(u8),
}

struct Server {
    addr: SocketAddr,
    udp_queries: Arc<AtomicUsize>,
    tcp_queries: Arc<AtomicUsize>,
}

fn answer_to(query: &[u8], fake: Fake, over_tcp: bool) -> Vec<Vec<u8>> {
    let Ok(q) = Message::from_vec(query) else { return Vec::new() };
    let mut m = Message::new();
    m.set_id(q.id()).set_message_type(MessageType::Response).set_op_code(OpCode::Query);
    m.add_queries(q.queries().iter().cloned());
    let name = q.queries()[0].name().clone();
    let with_answer = |m: &mut Message, last: u8| {
        m.add_answer(Record::from_rdata(name.clone(), 30, RData::A(A::new(192, 0, 2, last))));
    };
    match fake {
        Fake::Answer(last) => with_answer(&mut m, last),
        Fake::Rcode(rc) => {
            m.set_response_code(rc);
        }
        Fake::Silent => return Vec::new(),
        Fake::SpoofFirst(last) => {
            with_answer(&mut m, last);
            let mut spoof = m.clone();
            spoof.set_id(q.id().wrapping_add(1));
            spoof.answers_mut().clear();
            spoof.add_answer(Record::from_rdata(name.clone(), 30, RData::A(A::new(192, 0, 2, 66))));
            return vec![spoof.to_vec().unwrap(), m.to_vec().unwrap()];
        }
        Fake::TruncatedOverUdp(last) if over_tcp => with_answer(&mut m, last),
        Fake::TruncatedOverUdp(_) => {
            m.set_truncated(true);
        }
    }
    vec![m.to_vec().unwrap()]
}

async fn fake_server(fake: Fake) -> Server {
    let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = TcpListener::bind(addr).await.unwrap();
    let (udp_queries, tcp_queries) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = udp_queries.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
            counted.fetch_add(1, Ordering::SeqCst);
            for packet in answer_to(&buf[..n], fake, false) {
                let _ = udp.send_to(&packet, peer).await;
            }
        }
    });
    let counted = tcp_queries.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = tcp.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(len) = s.read_u16().await else { return };
                let mut q = vec![0u8; usize::from(len)];
                if s.read_exact(&mut q).await.is_err() {
                    return;
                }
                for packet in answer_to(&q, fake, true) {
                    let _ = s.write_all(&(packet.len() as u16).to_be_bytes()).await;
                    let _ = s.write_all(&packet).await;
                }
            });
        }
    });
    Server { addr, udp_queries, tcp_queries }
}

fn query() -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(777).set_message_type(MessageType::Query).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_str("example.test.").unwrap(), RecordType::A));
    m.to_vec().unwrap()
}

fn last_octet(answer: &[u8]) -> Option<u8> {
    let m = Message::from_vec(answer).ok()?;
    m.answers().iter().find_map(|r| r.data().as_a().map(|a| a.0.octets()[3]))
}

fn upstreams(servers: &[&Server]) -> Upstreams {
    Upstreams::host(servers.iter().map(|s| s.addr).collect())
}

#[tokio::test]
async fn the_first_good_answer_comes_back_as_sent() {
    let s = fake_server(Fake::Answer(7)).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&s]), &query(), false).await.unwrap();
    assert_eq!(last_octet(&a), Some(7));
    assert_eq!(wire::id(&a), Some(777));
}

#[tokio::test]
async fn servfail_refused_and_silence_move_on_to_the_next_server() {
    let silent = fake_server(Fake::Silent).await;
    let servfail = fake_server(Fake::Rcode(ResponseCode::ServFail)).await;
    let good = fake_server(Fake::Answer(9)).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&silent, &servfail, &good]), &query(), false).await.unwrap();
    assert_eq!(last_octet(&a), Some(9));
    assert_eq!(silent.udp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(servfail.udp_queries.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn when_every_server_fails_the_last_error_answer_is_passed_on() {
    let refused = fake_server(Fake::Rcode(ResponseCode::Refused)).await;
    let silent = fake_server(Fake::Silent).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&refused, &silent]), &query(), false).await.unwrap();
    assert_eq!(wire::rcode(&a), Some(5));
    let none = f.forward(&upstreams(&[&silent]), &query(), false).await;
    assert_eq!(none, Err(ForwardFailure::NoAnswer));
    assert_eq!(f.forward(&Upstreams::host(vec![]), &query(), false).await, Err(ForwardFailure::NoAnswer));
}

#[tokio::test]
async fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    let s = fake_server(Fake::TruncatedOverUdp(3)).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&s]), &query(), false).await.unwrap();
    assert_eq!(last_octet(&a), Some(3));
    assert_eq!((s.udp_queries.load(Ordering::SeqCst), s.tcp_queries.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test]
async fn a_tcp_client_is_forwarded_over_tcp() {
    let s = fake_server(Fake::Answer(4)).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&s]), &query(), true).await.unwrap();
    assert_eq!(last_octet(&a), Some(4));
    assert_eq!((s.udp_queries.load(Ordering::SeqCst), s.tcp_queries.load(Ordering::SeqCst)), (0, 1));
}

#[tokio::test]
async fn a_packet_with_another_id_is_not_taken_for_the_answer() {
    let s = fake_server(Fake::SpoofFirst(5)).await;
    let f = Forwarder::new(10, TIMEOUT);
    let a = f.forward(&upstreams(&[&s]), &query(), false).await.unwrap();
    assert_eq!(last_octet(&a), Some(5));
}

#[tokio::test]
async fn queries_over_the_bound_fail_at_once() {
    let silent = fake_server(Fake::Silent).await;
    let f = Arc::new(Forwarder::new(1, Duration::from_secs(5)));
    let ups = upstreams(&[&silent]);
    let (f2, ups2) = (f.clone(), ups.clone());
    let pending = tokio::spawn(async move { f2.forward(&ups2, &query(), false).await });
    // The first query holds the one permit once the server has seen it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while silent.udp_queries.load(Ordering::SeqCst) == 0 && tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(silent.udp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(f.forward(&ups, &query(), false).await, Err(ForwardFailure::Busy));
    pending.abort();
}

#[test]
fn resolv_conf_gives_at_most_three_servers_on_port_53() {
    let text = "# c\nnameserver 127.0.0.53\nsearch x\nnameserver fe80::1%eth0\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 10.0.0.2\n";
    let got = resolv_conf_servers(text);
    let want: Vec<SocketAddr> =
        ["127.0.0.53:53", "10.0.0.1:53", "[::1]:53"].iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(got, want);
}
