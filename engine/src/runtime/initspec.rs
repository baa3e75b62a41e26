//! What `weft-init` (a container's pid 1) needs beyond its command line and environment: the
//! root to pivot into, the command's candidates, working directory, messages and limits. weftd
//! writes it into a memfd the init reads at start; a plain length-prefixed binary format, as both
//! ends are this crate.

use std::ffi::CString;

use super::caps::CapSet;
use super::confine::PreparedLimits;
use super::init::ExecMessages;
use super::seccomp::Program;

const MAGIC: &[u8; 8] = b"WEFTINI1";

/// The init's part of a container's start.
pub(super) struct InitSpec {
    /// The new root, mounted: the init pivots into it.
    pub root: CString,
    pub candidates: Vec<CString>,
    pub workdir: CString,
    pub messages: ExecMessages,
    /// Whether the console socket is open (a container with a terminal).
    pub tty: bool,
    pub limits: PreparedLimits,
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }
    fn cstring(&mut self) -> Option<CString> {
        CString::new(self.bytes()?).ok()
    }
    fn count(&mut self) -> Option<usize> {
        // Each element takes at least one byte: a count larger than what is left is corrupt.
        let n = self.u32()? as usize;
        (n <= self.0.len()).then_some(n)
    }
}

impl InitSpec {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.0.extend_from_slice(MAGIC);
        w.bytes(self.root.as_bytes());
        w.u32(self.candidates.len() as u32);
        for c in &self.candidates {
            w.bytes(c.as_bytes());
        }
        w.bytes(self.workdir.as_bytes());
        for m in self.messages.parts() {
            w.bytes(m);
        }
        w.u8(u8::from(self.tty));
        let l = &self.limits;
        w.u64(l.capabilities.0);
        w.u32(l.last_cap);
        w.u8(u8::from(l.no_new_privileges));
        w.u32(l.uid);
        w.u32(l.gid);
        w.u32(l.groups.len() as u32);
        for g in &l.groups {
            w.u32(*g);
        }
        match &l.seccomp {
            None => w.u8(0),
            Some(program) => {
                w.u8(1);
                w.u32(program.filters.len() as u32);
                for filter in &program.filters {
                    w.u32(filter.len() as u32);
                    for i in filter {
                        w.0.extend_from_slice(&i.code.to_le_bytes());
                        w.u8(i.jt);
                        w.u8(i.jf);
                        w.u32(i.k);
                    }
                }
            }
        }
        w.0
    }

    /// `None` for anything but a whole spec written by [`InitSpec::encode`].
    pub(super) fn decode(data: &[u8]) -> Option<InitSpec> {
        let mut r = Reader(data);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let root = r.cstring()?;
        let n = r.count()?;
        let candidates = (0..n).map(|_| r.cstring()).collect::<Option<Vec<_>>>()?;
        let workdir = r.cstring()?;
        let messages = ExecMessages::from_parts([r.bytes()?, r.bytes()?, r.bytes()?, r.bytes()?]);
        let tty = r.u8()? != 0;
        let capabilities = CapSet(r.u64()?);
        let last_cap = r.u32()?;
        let no_new_privileges = r.u8()? != 0;
        let uid = r.u32()?;
        let gid = r.u32()?;
        let n = r.count()?;
        let groups = (0..n).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
        let seccomp = match r.u8()? {
            0 => None,
            _ => {
                let n = r.count()?;
                let mut filters = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = r.count()?;
                    let mut filter = Vec::with_capacity(len);
                    for _ in 0..len {
                        let code = r.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))?;
                        filter.push(libc::sock_filter { code, jt: r.u8()?, jf: r.u8()?, k: r.u32()? });
                    }
                    filters.push(filter);
                }
                Some(std::sync::Arc::new(Program { filters }))
            }
        };
        if !r.0.is_empty() {
            return None;
        }
        let limits = PreparedLimits { capabilities, last_cap, seccomp, no_new_privileges, uid, gid, groups };
        Some(InitSpec { root, candidates, workdir, messages, tty, limits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::confine::ProcessLimits;

    #[test]
    fn a_spec_round_trips_and_a_cut_one_is_refused() {
        let mut limits = ProcessLimits::docker_default().unwrap();
        limits.user = crate::runtime::User { uid: 1000, gid: 50, groups: vec![50, 10] };
        let spec = InitSpec {
            root: CString::new("/run/weft/containers/x/rootfs").unwrap(),
            candidates: vec![CString::new("/usr/bin/sh").unwrap(), CString::new("/bin/sh").unwrap()],
            workdir: CString::new("/srv").unwrap(),
            messages: ExecMessages::new("sh"),
            tty: true,
            limits: PreparedLimits::new(&limits),
        };
        let bytes = spec.encode();
        let back = InitSpec::decode(&bytes).expect("decodes");
        assert_eq!(back.encode(), bytes);
        assert_eq!(back.root, spec.root);
        assert_eq!(back.limits.uid, 1000);
        assert_eq!(back.limits.groups, [50, 10]);
        assert!(back.tty);
        assert!(InitSpec::decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(InitSpec::decode(b"WEFTINI0").is_none());
    }
}
