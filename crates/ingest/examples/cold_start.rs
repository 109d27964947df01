//! Cold start of the release ingest binary: a stand-in for the Lambda Runtime API on
//! 127.0.0.1 measures the time from exec to the binary's first
//! `GET /2018-06-01/runtime/invocation/next`, its peak RSS then (`VmHWM` from
//! `/proc/PID/status`), and, after handing it one verification request, how long that
//! first invocation took and the peak RSS after it. Then the child is killed.
//!
//! ```text
//! cargo build --release -p okta-connect-ingest
//! cargo run --release -p okta-connect-ingest --example cold_start [-- BINARY [RUNS]]
//! ```
//!
//! BINARY defaults to `$CARGO_TARGET_DIR/release/okta-connect-ingest` (or
//! `target/release/...`), RUNS to 5. The child gets a clean environment: fake secret,
//! a queue URL (never called: the request is a verification), the repository's
//! `config.ini`, a region and dummy credentials. Linux only (reads `/proc`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &str = "cold-start-secret";

enum Seen {
    /// A `/next` poll arrived (n-th, from 0).
    Poll(usize, Instant),
    /// The first event was handed over.
    Answered(Instant),
    /// The function posted its response.
    Response(Instant, String),
    /// The function posted an error (init or invocation).
    Error(String),
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0_usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request { method, path, body })
}

fn verification_event() -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {
            "authorization": SECRET,
            "x-okta-verification-challenge": "cold-start-challenge"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "http": { "method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "Okta" },
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    })
    .to_string()
}

fn serve(stream: TcpStream, polls: Arc<AtomicUsize>, seen: mpsc::Sender<Seen>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let now = Instant::now();
        if request.method == "GET" && request.path.ends_with("/runtime/invocation/next") {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            let _ = seen.send(Seen::Poll(n, now));
            if n > 0 {
                // Hold the poll: the run is over once the child is killed.
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            let body = verification_event();
            let deadline =
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(30);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
                 lambda-runtime-deadline-ms: {}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:okta-ingest\r\n\
                 lambda-runtime-trace-id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0\r\n\
                 content-length: {}\r\n\r\n",
                deadline.as_millis(),
                body.len()
            );
            let mut whole = head.into_bytes();
            whole.extend_from_slice(body.as_bytes());
            // Timestamped before the write: the child may answer before this thread
            // runs again.
            let _ = seen.send(Seen::Answered(Instant::now()));
            writer.write_all(&whole).unwrap();
            writer.flush().unwrap();
        } else {
            let text = String::from_utf8_lossy(&request.body).to_string();
            if request.path.ends_with("/response") {
                let _ = seen.send(Seen::Response(now, text));
            } else {
                let _ = seen.send(Seen::Error(format!(
                    "{} {}: {text}",
                    request.method, request.path
                )));
            }
            let ok = "{\"status\":\"OK\"}";
            let head = format!(
                "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                ok.len()
            );
            writer.write_all(head.as_bytes()).unwrap();
            writer.write_all(ok.as_bytes()).unwrap();
            writer.flush().unwrap();
        }
    }
}

/// Peak resident set size in KiB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Figures {
    first_poll: Duration,
    hwm_at_poll_kib: u64,
    first_invocation: Duration,
    hwm_after_kib: u64,
}

fn one_run(binary: &PathBuf) -> Result<Figures, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (tx, rx) = mpsc::channel();
    let polls = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (tx, polls) = (tx.clone(), Arc::clone(&polls));
            std::thread::spawn(move || serve(stream, polls, tx));
        }
    });

    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config.ini");
    let log = std::env::temp_dir().join(format!("okta-ingest-cold-start-{port}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "okta-ingest")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("OKTA_CONNECT_HOOK_SECRET", SECRET)
        .env(
            "OKTA_CONNECT_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/okta-events",
        )
        .env(
            "OKTA_CONNECT_DLQ_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/okta-events-dlq",
        )
        .env("OKTA_CONNECT_CONFIG_FILE", &config)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let pid = child.id();

    let limit = Duration::from_secs(20);
    let mut figures = Figures {
        first_poll: Duration::ZERO,
        hwm_at_poll_kib: 0,
        first_invocation: Duration::ZERO,
        hwm_after_kib: 0,
    };
    let mut answered = None;
    let result = loop {
        match rx.recv_timeout(limit) {
            Ok(Seen::Poll(0, at)) => {
                figures.first_poll = at - started;
                figures.hwm_at_poll_kib = vm_hwm(pid).unwrap_or(0);
            }
            Ok(Seen::Answered(at)) => answered = Some(at),
            Ok(Seen::Response(at, body)) => {
                if !body.contains("cold-start-challenge") || !body.contains("200") {
                    break Err(format!("unexpected response: {body}"));
                }
                figures.first_invocation = at - answered.unwrap_or(at);
            }
            Ok(Seen::Poll(_, _)) => {
                figures.hwm_after_kib = vm_hwm(pid).unwrap_or(0);
                break Ok(());
            }
            Ok(Seen::Error(e)) => break Err(format!("the function reported an error: {e}")),
            Err(_) => break Err(format!("no progress within {limit:?}")),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    result.map_err(|e| format!("{e}\nchild output:\n{logs}"))?;
    Ok(figures)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        target.join("release/okta-connect-ingest")
    });
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let size = std::fs::metadata(&binary)
        .map(|m| m.len())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it: cargo build --release -p okta-connect-ingest)",
                binary.display()
            )
        });
    println!(
        "binary: {} ({:.1} MiB)",
        binary.display(),
        size as f64 / 1048576.0
    );
    println!(
        "{:>4} {:>16} {:>16} {:>20} {:>16}",
        "run", "first poll ms", "VmHWM KiB", "1st invocation ms", "VmHWM after KiB"
    );
    let mut polls = Vec::new();
    let mut hwms = Vec::new();
    let mut invocations = Vec::new();
    let mut hwm_afters = Vec::new();
    for run in 1..=runs {
        match one_run(&binary) {
            Ok(f) => {
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                println!(
                    "{:>4} {:>16.2} {:>16} {:>20.2} {:>16}",
                    run,
                    ms(f.first_poll),
                    f.hwm_at_poll_kib,
                    ms(f.first_invocation),
                    f.hwm_after_kib
                );
                polls.push(ms(f.first_poll));
                hwms.push(f.hwm_at_poll_kib as f64);
                invocations.push(ms(f.first_invocation));
                hwm_afters.push(f.hwm_after_kib as f64);
            }
            Err(e) => {
                eprintln!("run {run} failed: {e}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "median {:>13.2} {:>16} {:>20.2} {:>16}",
        median(polls),
        median(hwms),
        median(invocations),
        median(hwm_afters)
    );
}
