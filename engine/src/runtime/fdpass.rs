//! One descriptor passed over a unix socket (SCM_RIGHTS): `weft-init` sends the master of the
//! container's terminal back on the console socket, and the caller receives it.
//!
//! The send side runs in `weft-init`'s setup, which stays async-signal-safe: the message is built
//! on the stack and nothing allocates.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// Run `f` with a message of one byte of payload and a control buffer with room for one
/// descriptor, both on the stack, so nothing allocates. `msg_controllen` is the whole buffer, as
/// a receiver wants it; a sender sets it to the space of the descriptor it puts there.
fn with_message<R>(f: impl FnOnce(&mut libc::msghdr) -> R) -> R {
    // u64s, so the control buffer is aligned as a cmsghdr must be; CMSG_SPACE(4) is 24 bytes on
    // 64-bit Linux.
    let mut control = [0u64; 8];
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: byte.len() };
    // SAFETY: msghdr is a plain C struct, for which all zeroes (null pointers, zero lengths) is a
    // valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    f(&mut msg)
}

/// Send `fd` on the unix socket `socket` (SCM_RIGHTS, one byte of payload): whether it went.
/// Async-signal-safe.
pub(super) fn send_fd(socket: RawFd, fd: RawFd) -> bool {
    with_message(|msg| {
        // SAFETY: the msghdr points at live buffers of the lengths given; CMSG_* walk its control
        // buffer, which is large enough for one descriptor.
        unsafe {
            msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(msg);
            if cmsg.is_null() {
                return false;
            }
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
            libc::sendmsg(socket, msg, libc::MSG_NOSIGNAL) == 1
        }
    })
}

/// One descriptor sent with SCM_RIGHTS on `socket`, close-on-exec; `None` at end of file.
pub(super) fn receive_fd(socket: &OwnedFd) -> Option<File> {
    with_message(|msg| {
        // SAFETY: the msghdr points at live buffers of the lengths given; the descriptor read from
        // the control message is a new one the kernel gave us, owned by nothing else.
        unsafe {
            let n = loop {
                let n = libc::recvmsg(socket.as_raw_fd(), msg, libc::MSG_CMSG_CLOEXEC);
                if n >= 0 || Errno::last() != Errno::EINTR {
                    break n;
                }
            };
            if n <= 0 {
                return None;
            }
            let cmsg = libc::CMSG_FIRSTHDR(msg);
            if cmsg.is_null() || (*cmsg).cmsg_level != libc::SOL_SOCKET || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
                return None;
            }
            let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
            Some(File::from_raw_fd(fd))
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, Write};
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn a_descriptor_sent_arrives_as_the_same_open_file() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let mut sent = tempfile::tempfile().unwrap();
        assert!(send_fd(theirs.as_raw_fd(), sent.as_raw_fd()));
        let mut received = receive_fd(&OwnedFd::from(ours.try_clone().unwrap())).unwrap();
        received.write_all(b"through the socket").unwrap();
        sent.rewind().unwrap();
        let mut back = String::new();
        sent.read_to_string(&mut back).unwrap();
        assert_eq!(back, "through the socket");
        // SAFETY: fcntl F_GETFD on a descriptor we own.
        let flags = unsafe { libc::fcntl(received.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC, "close-on-exec");

        drop(theirs);
        assert!(receive_fd(&OwnedFd::from(ours)).is_none(), "end of file");
    }
}
