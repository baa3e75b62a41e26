//! Pseudo-terminals of containers: a pair made in the container's own devpts instance (so `tty`
//! inside names `/dev/pts/N`), and the window size set on the master.
//!
//! The slave is opened from the master with TIOCGPTPEER, which needs no path: the pair always
//! belongs to the same devpts instance, whatever mount namespace the caller is in.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

/// Open a new pair on the `ptmx` at `ptmx` (a path the caller can reach, such as
/// `/proc/<init>/root/dev/pts/ptmx`): (master, slave), both close-on-exec.
pub fn open(ptmx: &CStr) -> io::Result<(File, File)> {
    let (master, slave) = open_raw(ptmx).map_err(io::Error::from_raw_os_error)?;
    // SAFETY: both descriptors were just opened by us and are owned by nothing else.
    Ok(unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) })
}

/// [`open`] for a forked child: async-signal-safe, raw descriptors, the errno on failure.
pub(super) fn open_raw(ptmx: &CStr) -> Result<(RawFd, RawFd), i32> {
    // SAFETY: `ptmx` is NUL-terminated; the ioctls take an int pointer or an int argument.
    unsafe {
        let master = libc::open(ptmx.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if master < 0 {
            return Err(super::spawn::last_errno());
        }
        let unlock: libc::c_int = 0;
        if libc::ioctl(master, libc::TIOCSPTLCK, &unlock) != 0 {
            let errno = super::spawn::last_errno();
            libc::close(master);
            return Err(errno);
        }
        let slave = libc::ioctl(master, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if slave < 0 {
            let errno = super::spawn::last_errno();
            libc::close(master);
            return Err(errno);
        }
        Ok((master, slave))
    }
}

/// Set the window size of the terminal whose master is `master` (the process in it gets SIGWINCH).
pub fn resize(master: &File, rows: u16, cols: u16) -> io::Result<()> {
    let size = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: `size` is a valid winsize for the duration of the call.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_pair_carries_bytes_and_a_size() {
        let (mut master, slave) = open(c"/dev/ptmx").unwrap();
        resize(&master, 30, 100).unwrap();
        let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: a valid out-pointer to a winsize.
        assert_eq!(unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut size) }, 0);
        assert_eq!((size.ws_row, size.ws_col), (30, 100));
        master.write_all(b"hi\n").unwrap();
        let mut buf = [0u8; 16];
        let n = (&slave).read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hi\n");
    }
}
