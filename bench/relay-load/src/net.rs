//! The phones' sockets: nonblocking UDP with the kernel's receive timestamp on every
//! datagram (`SO_TIMESTAMPNS`), received in batches (`recvmmsg`) and sent one datagram a
//! call (`sendto`, so each probe's send time is taken right before its own send) or in
//! batches (`sendmmsg`).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

/// The largest datagram kept whole; the server sends 172 bytes.
const DATAGRAM: usize = 512;

/// Binds `addr` with receive and send buffers of `buffer` bytes (forced past
/// `net.core.rmem_max` when running as root) and kernel receive timestamps on.
pub fn bind(addr: SocketAddrV4, buffer: usize) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let fd = socket.as_raw_fd();
    let size = buffer as libc::c_int;
    if set(fd, libc::SO_RCVBUFFORCE, size).is_err() {
        set(fd, libc::SO_RCVBUF, size)?;
    }
    if set(fd, libc::SO_SNDBUFFORCE, size).is_err() {
        set(fd, libc::SO_SNDBUF, size)?;
    }
    set(fd, libc::SO_TIMESTAMPNS, 1)?;
    Ok(socket)
}

fn set(fd: RawFd, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `value` outlives the call and its size is passed with it.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn sockaddr(addr: &SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: all-zero is a valid sockaddr_in.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    sa
}

/// Up to `capacity` datagrams to send in one `sendmmsg`.
pub struct SendBatch {
    packets: Vec<[u8; DATAGRAM]>,
    lengths: Vec<usize>,
    to: Vec<libc::sockaddr_in>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

impl SendBatch {
    pub fn new(capacity: usize) -> SendBatch {
        SendBatch {
            packets: vec![[0; DATAGRAM]; capacity],
            lengths: Vec::with_capacity(capacity),
            // SAFETY: all-zero is a valid sockaddr_in, iovec and mmsghdr.
            to: vec![unsafe { zeroed() }; capacity],
            iovecs: vec![unsafe { zeroed() }; capacity],
            headers: vec![unsafe { zeroed() }; capacity],
        }
    }

    pub fn is_full(&self) -> bool {
        self.lengths.len() == self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Adds `packet` for `to`.
    pub fn push(&mut self, packet: &[u8], to: &SocketAddrV4) {
        let i = self.lengths.len();
        self.packets[i][..packet.len()].copy_from_slice(packet);
        self.to[i] = sockaddr(to);
        self.lengths.push(packet.len());
    }

    /// Sends everything added since the last flush; how many datagrams the kernel took
    /// (a full send buffer refuses the rest, which then count as lost).
    pub fn flush(&mut self, socket: &UdpSocket) -> usize {
        let n = self.lengths.len();
        for i in 0..n {
            self.iovecs[i] = libc::iovec {
                iov_base: self.packets[i].as_mut_ptr().cast(),
                iov_len: self.lengths[i],
            };
            let header = &mut self.headers[i].msg_hdr;
            header.msg_name = (&raw mut self.to[i]).cast();
            header.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            header.msg_iov = &raw mut self.iovecs[i];
            header.msg_iovlen = 1;
        }
        let mut sent = 0;
        while sent < n {
            // SAFETY: the headers point into this batch's buffers, which live through the call.
            let r = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers[sent..].as_mut_ptr(),
                    (n - sent) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                break;
            }
            sent += r as usize;
        }
        self.lengths.clear();
        sent
    }
}

/// Sends one datagram; whether the kernel took it.
pub fn send_one(socket: &UdpSocket, packet: &[u8], to: &SocketAddrV4) -> bool {
    socket.send_to(packet, *to).is_ok()
}

/// One datagram out of a [`RecvBatch`].
pub struct Datagram<'a> {
    pub data: &'a [u8],
    /// The sender's port (the server's port of that leg).
    pub from_port: u16,
    /// When the kernel queued it on our socket (CLOCK_REALTIME), if it said.
    pub kernel_real_ns: Option<u64>,
}

/// Buffers for up to `capacity` datagrams received in one `recvmmsg`.
pub struct RecvBatch {
    packets: Vec<[u8; DATAGRAM]>,
    from: Vec<libc::sockaddr_in>,
    /// Room for one `SCM_TIMESTAMPNS` control message (u64s keep it aligned).
    controls: Vec<[u64; 8]>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    received: usize,
}

impl RecvBatch {
    pub fn new(capacity: usize) -> RecvBatch {
        RecvBatch {
            packets: vec![[0; DATAGRAM]; capacity],
            // SAFETY: all-zero is a valid sockaddr_in, iovec and mmsghdr.
            from: vec![unsafe { zeroed() }; capacity],
            controls: vec![[0; 8]; capacity],
            iovecs: vec![unsafe { zeroed() }; capacity],
            headers: vec![unsafe { zeroed() }; capacity],
            received: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.packets.len()
    }

    /// Receives what is queued on `socket`, up to the capacity, without waiting; how many.
    pub fn receive(&mut self, socket: &UdpSocket) -> usize {
        for i in 0..self.packets.len() {
            self.iovecs[i] = libc::iovec {
                iov_base: self.packets[i].as_mut_ptr().cast(),
                iov_len: DATAGRAM,
            };
            let header = &mut self.headers[i].msg_hdr;
            header.msg_name = (&raw mut self.from[i]).cast();
            header.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            header.msg_iov = &raw mut self.iovecs[i];
            header.msg_iovlen = 1;
            header.msg_control = self.controls[i].as_mut_ptr().cast();
            header.msg_controllen = size_of::<[u64; 8]>();
            header.msg_flags = 0;
        }
        // SAFETY: the headers point into this batch's buffers, which live through the call.
        let r = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                self.packets.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        self.received = if r > 0 { r as usize } else { 0 };
        self.received
    }

    /// The `i`th datagram of the last receive.
    pub fn get(&self, i: usize) -> Datagram<'_> {
        assert!(i < self.received);
        let header = &self.headers[i];
        Datagram {
            data: &self.packets[i][..header.msg_len as usize],
            from_port: u16::from_be(self.from[i].sin_port),
            kernel_real_ns: timestamp(&header.msg_hdr),
        }
    }
}

fn timestamp(header: &libc::msghdr) -> Option<u64> {
    // SAFETY: `header` is the one the kernel filled, its control buffer still alive; the
    // CMSG macros only walk inside `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(header);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            cmsg = libc::CMSG_NXTHDR(header, cmsg);
        }
    }
    None
}

/// Poll entries for `sockets`, for [`wait`].
pub fn poll_set(sockets: &[&UdpSocket]) -> Vec<libc::pollfd> {
    sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect()
}

/// Waits until a socket of `fds` has something to read or `timeout_ns` has passed.
pub fn wait(fds: &mut [libc::pollfd], timeout_ns: u64) {
    let timeout = libc::timespec {
        tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: `fds` and `timeout` outlive the call.
    unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &timeout,
            std::ptr::null(),
        );
    }
}

/// A clock's reading in nanoseconds.
pub fn now_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: all-zero is a valid timespec, which the call fills.
    let mut ts: libc::timespec = unsafe { zeroed() };
    // SAFETY: `ts` outlives the call.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
