//! A process's TCP connections, from `/proc/<pid>/net/tcp{,6}` and `/proc/<pid>/fd`: which
//! established connections the process itself holds (a socket inode of the network
//! namespace that one of its descriptors names). Reading another user's descriptors needs
//! root (or that user), as `ss -p` does.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The peers of the established TCP connections that `pid` holds a descriptor of.
pub fn tcp_peers(pid: u32) -> io::Result<Vec<SocketAddr>> {
    let inodes = socket_inodes(pid)?;
    let mut peers = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = match std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().skip(1) {
            if let Some((peer, inode)) = established(line) {
                if inodes.contains(&inode) {
                    peers.push(peer);
                }
            }
        }
    }
    Ok(peers)
}

/// Whether the process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S …`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}

/// The inodes of the sockets `pid`'s descriptors name (`socket:[N]`).
fn socket_inodes(pid: u32) -> io::Result<HashSet<u64>> {
    let mut out = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(entry) = entry else { continue };
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let t = target.to_string_lossy();
        if let Some(n) = t
            .strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
        {
            out.insert(n);
        }
    }
    Ok(out)
}

/// One line of `/proc/net/tcp{,6}`: the peer and the socket inode, when established.
fn established(line: &str) -> Option<(SocketAddr, u64)> {
    let f: Vec<&str> = line.split_whitespace().collect();
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if f.len() < 10 || f[3] != "01" {
        return None;
    }
    let peer = addr(f[2])?;
    Some((peer, f[9].parse().ok()?))
}

/// `0100007F:1F90` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order.
fn addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        Some(
            u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16)
                .ok()?
                .to_ne_bytes(),
        )
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(b);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_lines() {
        let l = "   1: 0100007F:C350 0100007F:03E1 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 4 30 10 -1";
        let (peer, inode) = established(l).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(peer, "127.0.0.1:993".parse().unwrap());
        }
        assert_eq!(inode, 4242);
        let listen = l.replace(" 01 ", " 0A ");
        assert!(established(&listen).is_none());
    }

    #[test]
    fn this_process_is_alive_and_holds_its_connection() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let me = std::process::id();
        assert!(alive(me));
        let peers = tcp_peers(me).unwrap();
        assert!(peers.iter().any(|p| p.port() == port), "{peers:?}");
    }
}
