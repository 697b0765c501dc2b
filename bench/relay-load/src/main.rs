//! relay-load: the phones' side of Switchboard's relay bench (bench/relay.sh).
//!
//! For N bridged calls whose SIP sipp set up, every leg's phone sends 20 ms G.711 to its
//! leg's server port (50 packets a second, both legs, so 100 N packets a second in all)
//! and receives what the server relays from the other leg. The phones of one side share
//! a socket, as sipp's share one media port: the server sees the address each SDP named,
//! and keeps one socket, one latch and one stream per leg, as with separate phones. The
//! send times of all the streams are spread evenly over the 20 ms, as independent phones'
//! would be.
//!
//! Each packet carries its stream, its number and its send time (see `packet`); the
//! receiving side counts sent, received, lost and reordered packets per stream and per
//! direction, checks that each stream comes back from exactly one server port (no call
//! crossed into another), and times each packet two ways: from the send to the kernel's
//! receive timestamp on our socket (taken while the server's `sendto` runs, on loopback),
//! which is the time the packet spent in the server plus the loopback's delivery; and
//! from the send to our own read of it, which also holds this tool's scheduling.
//!
//! Usage: relay-load --caller-ports FILE --callee-ports FILE [--caller-bind ADDR]
//! [--callee-bind ADDR] [--seconds S] [--warmup S] [--server-pid PID] [--send-batch N]
//! [--tick-us US] [--json FILE]. A ports file has one call a line, the server's media port last
//! (sipp's `<log>` lines: "caller CALL-ID PORT").

mod cpu;
mod net;
mod packet;
mod stats;

use packet::Probe;
use stats::{Direction, Stream};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;

const PERIOD_NS: u64 = 20_000_000;
/// Socket buffers: a stall of the server (or of this tool) of a second at 100,000
/// packets a second still fits.
const SOCKET_BUFFER: usize = 64 << 20;
const RECV_BATCH: usize = 256;
/// How long to wait for packets still in flight after the last send.
const DRAIN_NS: u64 = 500_000_000;

struct Args {
    caller_ports: PathBuf,
    callee_ports: PathBuf,
    caller_bind: SocketAddrV4,
    callee_bind: SocketAddrV4,
    server: Ipv4Addr,
    seconds: f64,
    warmup: f64,
    server_pid: Option<u32>,
    send_batch: usize,
    /// The shortest sleep between two rounds of sends, in µs: what is due meanwhile goes
    /// out together. It bounds this tool's wake-ups (and its CPU), whatever its priority.
    tick_us: u64,
    json: Option<PathBuf>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            caller_ports: PathBuf::new(),
            callee_ports: PathBuf::new(),
            caller_bind: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 31000),
            callee_bind: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 31002),
            server: Ipv4Addr::LOCALHOST,
            seconds: 60.0,
            warmup: 2.0,
            server_pid: None,
            send_batch: 1,
            tick_us: 200,
            json: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or(format!("{flag} needs a value"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
            match flag.as_str() {
                "--caller-ports" => args.caller_ports = value.into(),
                "--callee-ports" => args.callee_ports = value.into(),
                "--caller-bind" => args.caller_bind = value.parse().map_err(|e| bad(&e))?,
                "--callee-bind" => args.callee_bind = value.parse().map_err(|e| bad(&e))?,
                "--server" => args.server = value.parse().map_err(|e| bad(&e))?,
                "--seconds" => args.seconds = value.parse().map_err(|e| bad(&e))?,
                "--warmup" => args.warmup = value.parse().map_err(|e| bad(&e))?,
                "--server-pid" => args.server_pid = Some(value.parse().map_err(|e| bad(&e))?),
                "--send-batch" => args.send_batch = value.parse().map_err(|e| bad(&e))?,
                "--tick-us" => args.tick_us = value.parse().map_err(|e| bad(&e))?,
                "--json" => args.json = Some(value.into()),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if args.caller_ports.as_os_str().is_empty() || args.callee_ports.as_os_str().is_empty() {
            return Err("--caller-ports and --callee-ports are needed".into());
        }
        if args.send_batch == 0 || args.warmup >= args.seconds {
            return Err("--send-batch must be at least 1 and --warmup under --seconds".into());
        }
        Ok(args)
    }
}

/// The server's media port of each leg, the last number on each line.
fn read_ports(path: &PathBuf) -> Result<Vec<u16>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .last()
                .and_then(|p| p.parse().ok())
                .ok_or(format!("{}: no port in {l:?}", path.display()))
        })
        .collect()
}

/// Which side of the calls a phone is on; index into the sockets and directions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller = 0,
    Callee = 1,
}

struct Leg {
    side: Side,
    /// The server's port for this leg.
    to: SocketAddrV4,
}

/// CPU readings at one instant.
#[derive(Clone, Copy)]
struct CpuMark {
    mono_ns: u64,
    server_s: Option<f64>,
    own_s: Option<f64>,
    machine: Option<(u64, u64)>,
}

fn cpu_mark(server_pid: Option<u32>) -> CpuMark {
    CpuMark {
        mono_ns: net::now_ns(libc::CLOCK_MONOTONIC),
        server_s: server_pid.and_then(cpu::process_seconds),
        own_s: cpu::process_seconds(std::process::id()),
        machine: cpu::machine_jiffies(),
    }
}

/// One second of the run, for spotting a stall.
#[derive(Clone, Copy, Default)]
struct Second {
    received: u64,
    over_2ms: u64,
    max_ns: u64,
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("relay-load: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            if let Some(path) = &args.json
                && let Err(e) = std::fs::write(path, report)
            {
                eprintln!("relay-load: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("relay-load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<String, String> {
    let callers = read_ports(&args.caller_ports)?;
    let callees = read_ports(&args.callee_ports)?;
    let legs: Vec<Leg> = callers
        .iter()
        .map(|&p| (Side::Caller, p))
        .chain(callees.iter().map(|&p| (Side::Callee, p)))
        .map(|(side, port)| Leg {
            side,
            to: SocketAddrV4::new(args.server, port),
        })
        .collect();
    if legs.is_empty() {
        return Err("no legs in the ports files".into());
    }
    let sockets: [UdpSocket; 2] = [
        net::bind(args.caller_bind, SOCKET_BUFFER)
            .map_err(|e| format!("{}: {e}", args.caller_bind))?,
        net::bind(args.callee_bind, SOCKET_BUFFER)
            .map_err(|e| format!("{}: {e}", args.callee_bind))?,
    ];
    let mut fds = net::poll_set(&[&sockets[0], &sockets[1]]);
    let calls = callers.len().min(callees.len());
    eprintln!(
        "relay-load: {} caller legs, {} callee legs, {} packets/s for {} s",
        callers.len(),
        callees.len(),
        legs.len() as u64 * 1_000_000_000 / PERIOD_NS,
        args.seconds
    );

    let n = legs.len() as u64;
    let mut streams = vec![Stream::default(); legs.len()];
    let mut directions = [
        Direction::new("caller_to_callee"),
        Direction::new("callee_to_caller"),
    ];
    let mut port_stream: HashMap<u16, u32> = HashMap::with_capacity(legs.len());
    let (mut crossed, mut misrouted, mut foreign) = (0u64, 0u64, 0u64);
    let mut seconds = vec![Second::default(); args.seconds.ceil() as usize + 2];
    let mut batches = [
        net::SendBatch::new(args.send_batch),
        net::SendBatch::new(args.send_batch),
    ];
    let mut batch_streams: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut receive = net::RecvBatch::new(RECV_BATCH);
    let mut buffer = packet::blank();

    let start = net::now_ns(libc::CLOCK_MONOTONIC) + 10_000_000;
    let warm = start + (args.warmup * 1e9) as u64;
    let end = start + (args.seconds * 1e9) as u64;
    let due = |g: u64| start + g * PERIOD_NS / n;
    let mut next = 0u64;
    let mut window: (Option<CpuMark>, Option<CpuMark>) = (None, None);
    let mut drain_until = None;
    loop {
        let now = net::now_ns(libc::CLOCK_MONOTONIC);
        if window.0.is_none() && now >= warm {
            window.0 = Some(cpu_mark(args.server_pid));
        }
        if drain_until.is_none() && now >= end {
            window.1 = Some(cpu_mark(args.server_pid));
            drain_until = Some(now + DRAIN_NS);
        }
        if drain_until.is_none() {
            while due(next) <= now {
                let stream = (next % n) as usize;
                let leg = &legs[stream];
                let probe = Probe {
                    stream: stream as u32,
                    sequence: (next / n) as u32,
                    sent_mono_ns: net::now_ns(libc::CLOCK_MONOTONIC),
                    sent_real_ns: net::now_ns(libc::CLOCK_REALTIME),
                };
                packet::write(&mut buffer, &probe);
                streams[stream].sent += 1;
                let side = leg.side as usize;
                if args.send_batch == 1 {
                    if !net::send_one(&sockets[side], &buffer, &leg.to) {
                        streams[stream].not_sent += 1;
                    }
                } else {
                    batches[side].push(&buffer, &leg.to);
                    batch_streams[side].push(stream as u32);
                    if batches[side].is_full() {
                        flush(
                            &mut batches[side],
                            &mut batch_streams[side],
                            &sockets[side],
                            &mut streams,
                        );
                    }
                }
                next += 1;
            }
            for side in 0..2 {
                if !batches[side].is_empty() {
                    flush(
                        &mut batches[side],
                        &mut batch_streams[side],
                        &sockets[side],
                        &mut streams,
                    );
                }
            }
        }
        for (receiving, socket) in sockets.iter().enumerate() {
            loop {
                let count = receive.receive(socket);
                let read_mono = net::now_ns(libc::CLOCK_MONOTONIC);
                for i in 0..count {
                    let datagram = receive.get(i);
                    let Some(probe) = packet::read(datagram.data) else {
                        foreign += 1;
                        continue;
                    };
                    let Some(leg) = legs.get(probe.stream as usize) else {
                        foreign += 1;
                        continue;
                    };
                    if leg.side as usize == receiving {
                        misrouted += 1; // our own side's packet came back to us
                        continue;
                    }
                    let stream = &mut streams[probe.stream as usize];
                    match stream.relayed_from {
                        None => stream.relayed_from = Some(datagram.from_port),
                        Some(p) if p != datagram.from_port => crossed += 1,
                        Some(_) => {}
                    }
                    if *port_stream
                        .entry(datagram.from_port)
                        .or_insert(probe.stream)
                        != probe.stream
                    {
                        crossed += 1;
                    }
                    let transit = datagram
                        .kernel_real_ns
                        .map(|k| k as i64 - probe.sent_real_ns as i64);
                    stream.heard(probe.sequence, transit);
                    let direction = &mut directions[leg.side as usize];
                    direction
                        .end_to_end
                        .add(read_mono.saturating_sub(probe.sent_mono_ns));
                    let last = seconds.len() - 1;
                    let at = ((probe.sent_mono_ns.max(start) - start) / 1_000_000_000) as usize;
                    let second = &mut seconds[at.min(last)];
                    second.received += 1;
                    if let Some(t) = transit {
                        let t = t.max(0) as u64;
                        direction.in_server.add(t);
                        second.max_ns = second.max_ns.max(t);
                        if t > 2_000_000 {
                            second.over_2ms += 1;
                        }
                    }
                }
                if count < receive.capacity() {
                    break;
                }
            }
        }
        let now = net::now_ns(libc::CLOCK_MONOTONIC);
        match drain_until {
            Some(limit) => {
                let all_in = streams.iter().all(|s| s.received >= s.sent - s.not_sent);
                if now >= limit || all_in {
                    break;
                }
                net::wait(&mut fds, 1_000_000);
            }
            None => {
                // Sleep through the tick even when packets arrive: they wait in the
                // socket with their kernel timestamps, and are read in batches.
                let until = due(next).max(now + args.tick_us * 1000).min(end);
                if until > now {
                    std::thread::sleep(std::time::Duration::from_nanos(until - now));
                }
            }
        }
    }
    Ok(report(
        args,
        calls,
        &legs,
        &streams,
        &directions,
        (crossed, misrouted, foreign),
        &seconds,
        window,
    ))
}

fn flush(
    batch: &mut net::SendBatch,
    which: &mut Vec<u32>,
    socket: &UdpSocket,
    streams: &mut [Stream],
) {
    let taken = batch.flush(socket);
    for &s in &which[taken..] {
        streams[s as usize].not_sent += 1;
    }
    which.clear();
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    calls: usize,
    legs: &[Leg],
    streams: &[Stream],
    directions: &[Direction; 2],
    (crossed, misrouted, foreign): (u64, u64, u64),
    seconds: &[Second],
    window: (Option<CpuMark>, Option<CpuMark>),
) -> String {
    let mut json = String::from("{\n");
    let _ = writeln!(
        json,
        "  \"calls\": {calls}, \"legs\": {}, \"seconds\": {}, \"warmup\": {}, \"send_batch\": {},",
        legs.len(),
        args.seconds,
        args.warmup,
        args.send_batch
    );
    println!(
        "== relay-load: {calls} calls, {} legs, {} s",
        legs.len(),
        args.seconds
    );
    for (side, direction) in directions.iter().enumerate() {
        let from_side: Vec<&Stream> = legs
            .iter()
            .zip(streams)
            .filter(|(l, _)| l.side as usize == side)
            .map(|(_, s)| s)
            .collect();
        let sent: u64 = from_side.iter().map(|s| s.sent).sum();
        let not_sent: u64 = from_side.iter().map(|s| s.not_sent).sum();
        let received: u64 = from_side.iter().map(|s| s.received).sum();
        let reordered: u64 = from_side.iter().map(|s| s.reordered).sum();
        let lost = sent - not_sent - received.min(sent - not_sent);
        let streams_with_loss = from_side.iter().filter(|s| s.received < s.sent).count();
        let never_heard = from_side.iter().filter(|s| s.received == 0).count();
        let jitter_mean = from_side.iter().map(|s| s.jitter_ns).sum::<f64>()
            / from_side.len().max(1) as f64
            / 1000.0;
        let jitter_max = from_side.iter().map(|s| s.jitter_ns).fold(0.0, f64::max) / 1000.0;
        let _ = writeln!(
            json,
            "  \"{}\": {{\"sent\": {sent}, \"not_sent\": {not_sent}, \"received\": {received}, \"lost\": {lost}, \"reordered\": {reordered}, \"streams_with_loss\": {streams_with_loss}, \"streams_never_heard\": {never_heard}, \"jitter_rfc3550_mean_us\": {jitter_mean:.1}, \"jitter_rfc3550_max_us\": {jitter_max:.1},\n    \"in_server\": {},\n    \"end_to_end\": {}}},",
            direction.name,
            direction.in_server.json(),
            direction.end_to_end.json()
        );
        let h = &direction.in_server;
        let e = &direction.end_to_end;
        println!(
            "{}: sent {sent}, received {received}, lost {lost} (our send buffer refused {not_sent}), reordered {reordered}, streams with loss {streams_with_loss}",
            direction.name
        );
        println!(
            "  in server (send -> kernel receive timestamp): p50 {} us, p99 {} us, p99.9 {} us, max {:.0} us, over 2 ms {}",
            h.quantile_us(0.5),
            h.quantile_us(0.99),
            h.quantile_us(0.999),
            h.max_us(),
            h.above_us(2000)
        );
        println!(
            "  end to end (send -> our read):             p50 {} us, p99 {} us, p99.9 {} us, max {:.0} us",
            e.quantile_us(0.5),
            e.quantile_us(0.99),
            e.quantile_us(0.999),
            e.max_us()
        );
        println!(
            "  jitter (RFC 3550, per stream): mean {jitter_mean:.1} us, max {jitter_max:.1} us"
        );
    }
    let _ = writeln!(
        json,
        "  \"crossed\": {crossed}, \"misrouted\": {misrouted}, \"foreign\": {foreign},"
    );
    println!(
        "streams relayed from a second port or ports carrying a second stream: {crossed}; our own packets back: {misrouted}; packets without a probe: {foreign}"
    );
    if let (Some(a), Some(b)) = window {
        let span = (b.mono_ns - a.mono_ns) as f64 / 1e9;
        let share = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (y - x) / span * 100.0,
            _ => f64::NAN,
        };
        let server = share(a.server_s, b.server_s);
        let own = share(a.own_s, b.own_s);
        let machine = match (a.machine, b.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                (b1 - b0) as f64 / (t1 - t0) as f64 * 200.0
            }
            _ => f64::NAN,
        };
        let per_call = server / calls.max(1) as f64;
        let _ = writeln!(
            json,
            "  \"cpu\": {{\"window_s\": {span:.2}, \"server_percent_of_one_core\": {server:.2}, \"server_percent_per_call\": {per_call:.4}, \"load_tool_percent\": {own:.2}, \"machine_percent_of_one_core\": {machine:.1}}},"
        );
        println!(
            "CPU over {span:.1} s of steady state: server {server:.1}% of one core = {per_call:.4}% per relayed call; load tool {own:.1}%; whole machine {machine:.0}% of one core (of 200%)"
        );
    }
    let series: Vec<String> = seconds
        .iter()
        .map(|s| {
            format!(
                "[{}, {}, {:.0}]",
                s.received,
                s.over_2ms,
                s.max_ns as f64 / 1000.0
            )
        })
        .collect();
    let _ = writeln!(
        json,
        "  \"per_second_received_over2ms_max_us\": [{}]\n}}",
        series.join(", ")
    );
    json
}
