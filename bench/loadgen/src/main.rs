//! A small, deliberately cheap load generator for `POST /webhooks/stripe`.
//!
//! Every request is a real shared fixture event whose Stripe ids (event, PaymentIntent, charge,
//! refund, dispute, session…) carry a per-cycle suffix, so each delivery is a new event for a new
//! order and both servers do real work; each is signed with a fresh timestamp, exactly as Stripe
//! signs. HTTP/1.1 keep-alive over raw TCP on a single-threaded runtime, so the generator stays
//! cheaper than the servers it measures (pin it to its own core with `taskset`).
//!
//! ```text
//! leenkies-loadgen --addr 127.0.0.1:3000 --secret whsec_… --fixtures DIR \
//!     --connections 32 --duration 10 --warmup 2 [--label rust]
//! ```
//! Prints one JSON line: requests, requests/s, latency p50/p90/p99/max in µs, non-200 answers.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    path: String,
    secret: String,
    fixtures: PathBuf,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    label: String,
    /// The server's pid: its CPU time (utime + stime, all threads) over the run is read from
    /// /proc, so CPU per request is known even when the machine is shared.
    server_pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:3000".parse().expect("addr"),
        path: "/webhooks/stripe".into(),
        secret: String::new(),
        fixtures: PathBuf::from("../shared/fixtures/stripe/events"),
        connections: 1,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        label: String::new(),
        server_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value().parse().expect("--addr host:port"),
            "--path" => a.path = value(),
            "--secret" => a.secret = value(),
            "--fixtures" => a.fixtures = value().into(),
            "--connections" => a.connections = value().parse().expect("--connections"),
            "--duration" => a.duration = Duration::from_secs_f64(value().parse().expect("secs")),
            "--warmup" => a.warmup = Duration::from_secs_f64(value().parse().expect("secs")),
            "--label" => a.label = value(),
            "--server-pid" => a.server_pid = Some(value().parse().expect("--server-pid")),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!a.secret.is_empty(), "--secret is required");
    assert!(a.addr.ip().is_loopback(), "only loopback targets");
    a
}

/// A fixture cut at every Stripe id, so a body with suffixed ids is a few memcpys.
struct Template {
    /// Literal text and the id that follows it (empty for the last piece).
    pieces: Vec<(Vec<u8>, Vec<u8>)>,
}

const ID_PREFIXES: &[&str] = &[
    "evt_", "pi_", "ch_", "re_", "du_", "cs_", "issfr_", "py_", "txn_", "pm_", "src_",
];

impl Template {
    fn new(body: &[u8]) -> Self {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        while i < body.len() {
            // an id starts after a quote
            if i > 0 && body[i - 1] == b'"' {
                if let Some(p) = ID_PREFIXES
                    .iter()
                    .find(|p| body[i..].starts_with(p.as_bytes()))
                {
                    let start = i;
                    let mut end = i + p.len();
                    while end < body.len() && body[end].is_ascii_alphanumeric() {
                        end += 1;
                    }
                    // a plain id ends at the closing quote (skips client secrets and the like)
                    if end > start + p.len() && body.get(end) == Some(&b'"') {
                        pieces.push((std::mem::take(&mut literal), body[start..end].to_vec()));
                        i = end;
                        continue;
                    }
                }
            }
            literal.push(body[i]);
            i += 1;
        }
        pieces.push((literal, Vec::new()));
        Template { pieces }
    }

    fn render(&self, suffix: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for (literal, id) in &self.pieces {
            out.extend_from_slice(literal);
            if !id.is_empty() {
                out.extend_from_slice(id);
                out.extend_from_slice(suffix);
            }
        }
    }
}

fn templates(dir: &PathBuf) -> Vec<Template> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| Template::new(&std::fs::read(p).expect("fixture")))
        .collect()
}

struct Shared {
    templates: Vec<Template>,
    secret: String,
    path: String,
    host: String,
    next: Cell<u64>,
    stop_at: Instant,
    measure_from: Instant,
    latencies_us: RefCell<Vec<u32>>,
    non_200: Cell<u64>,
    measured: Cell<u64>,
    /// Every answered request, warm-up included (the CPU reading covers the whole run).
    answered: Cell<u64>,
}

/// utime + stime of a process in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name may hold spaces: fields are counted after its closing parenthesis
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second (`getconf CLK_TCK`); 100 on Linux.
const CLK_TCK: f64 = 100.0;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn build_request(shared: &Shared, n: u64, body: &mut Vec<u8>, request: &mut Vec<u8>) {
    let cycle = n / shared.templates.len() as u64;
    let template = &shared.templates[(n % shared.templates.len() as u64) as usize];
    let suffix = format!("L{cycle:x}");
    template.render(suffix.as_bytes(), body);
    let t = now_secs().to_string();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(shared.secret.as_bytes())
        .expect("any key length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig = hex::encode(mac.finalize().into_bytes());
    request.clear();
    request.extend_from_slice(
        format!(
            "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json; charset=utf-8\r\nuser-agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\nstripe-signature: t={t},v1={sig}\r\ncontent-length: {}\r\n\r\n",
            shared.path, shared.host, body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
}

/// Reads one HTTP/1.1 response (Content-Length bodies only; both servers send one).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head_end) = find(buf, b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..head_end]).map_err(std::io::Error::other)?;
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other("bad status line"))?;
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .ok_or_else(|| std::io::Error::other("response without content-length"))?;
            let total = head_end + 4 + length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn connection(shared: Rc<Shared>, addr: SocketAddr) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut body, mut request, mut response) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let n = shared.next.get();
        shared.next.set(n + 1);
        build_request(&shared, n, &mut body, &mut request);
        let sent = Instant::now();
        if sent >= shared.stop_at {
            return Ok(());
        }
        stream.write_all(&request).await?;
        let status = read_response(&mut stream, &mut response).await?;
        shared.answered.set(shared.answered.get() + 1);
        if sent >= shared.measure_from {
            let us = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
            shared.latencies_us.borrow_mut().push(us);
            shared.measured.set(shared.measured.get() + 1);
            if status != 200 {
                if shared.non_200.get() == 0 {
                    eprintln!(
                        "first non-200 answer: {status} {}",
                        String::from_utf8_lossy(&response)
                    );
                }
                shared.non_200.set(shared.non_200.get() + 1);
            }
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let templates = templates(&args.fixtures);
    assert!(
        !templates.is_empty(),
        "no fixtures in {}",
        args.fixtures.display()
    );
    let start = Instant::now();
    let shared = Rc::new(Shared {
        templates,
        secret: args.secret.clone(),
        path: args.path.clone(),
        host: args.addr.to_string(),
        // a per-run offset keeps ids distinct across runs against one long-lived server
        next: Cell::new((now_secs() % 100_000) * 1_000_000),
        stop_at: start + args.warmup + args.duration,
        measure_from: start + args.warmup,
        latencies_us: RefCell::new(Vec::with_capacity(1 << 20)),
        non_200: Cell::new(0),
        measured: Cell::new(0),
        answered: Cell::new(0),
    });
    let ticks_before = args.server_pid.and_then(cpu_ticks);
    let local = tokio::task::LocalSet::new();
    let errors = local.block_on(&runtime, async {
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| tokio::task::spawn_local(connection(shared.clone(), args.addr)))
            .collect();
        let mut errors = 0;
        for task in tasks {
            if let Ok(Err(e)) = task.await {
                eprintln!("connection error: {e}");
                errors += 1;
            }
        }
        errors
    });
    let elapsed = Instant::now().min(shared.stop_at) - shared.measure_from;
    let ticks_after = args.server_pid.and_then(cpu_ticks);
    // server CPU µs per answered request, and the requests/s one fully busy core would give
    let (cpu_us, per_core) = match (ticks_before, ticks_after) {
        (Some(b), Some(a)) if shared.answered.get() > 0 && a > b => {
            let us = (a - b) as f64 / CLK_TCK * 1e6 / shared.answered.get() as f64;
            (us, 1e6 / us)
        }
        _ => (0.0, 0.0),
    };
    let mut lat = shared.latencies_us.take();
    lat.sort_unstable();
    let n = shared.measured.get();
    println!(
        "{{\"label\":\"{}\",\"connections\":{},\"seconds\":{:.2},\"requests\":{},\"rps\":{:.0},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"p999_us\":{},\"max_us\":{},\"non_200\":{},\"connection_errors\":{},\"server_cpu_us_per_request\":{:.1},\"rps_per_server_core\":{:.0}}}",
        args.label,
        args.connections,
        elapsed.as_secs_f64(),
        n,
        n as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        percentile(&lat, 99.9),
        lat.last().copied().unwrap_or(0),
        shared.non_200.get(),
        errors,
        cpu_us,
        per_core
    );
}
