//! A real browser for the report's tests: Debian's Chromium driven through
//! ChromeDriver's W3C WebDriver protocol (JSON over HTTP on localhost),
//! spoken here with the standard library.
//!
//! `browser()` is None (the test skips with a notice) when ChromeDriver is
//! not installed, unless SKEWER_REQUIRE_BROWSER=1 (CI), where it fails.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key WebDriver names an element by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// Chromium's profile folder, removed with the browser.
    _profile: tempfile::TempDir,
}

fn find(var: &str, default: &str) -> Option<String> {
    let p = std::env::var(var).unwrap_or_else(|_| default.to_string());
    Path::new(&p).exists().then_some(p)
}

/// Chromium under ChromeDriver, headless, with a fresh profile; None when
/// either is missing (and SKEWER_REQUIRE_BROWSER is not 1).
pub fn browser() -> Option<Browser> {
    let driver = find("SKEWER_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = find("SKEWER_CHROMIUM", "/usr/bin/chromium");
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        if std::env::var("SKEWER_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("SKEWER_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed");
        }
        eprintln!(
            "skipping: no chromium and chromedriver (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser {
        driver: child,
        port,
        session: String::new(),
        _profile: profile,
    };
    let start = Instant::now();
    while b.request("GET", "/status", None).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "chromedriver did not answer"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The flags a closed network needs (no background connections), a
    // root user (no sandbox) and no display.
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        "--window-size=1280,1000".into(),
        format!("--user-data-dir={}", b._profile.path().display()),
    ];
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium, "args": args},
        "goog:loggingPrefs": {"browser": "ALL"},
    }}});
    let v = b
        .request("POST", "/session", Some(&caps))
        .expect("a WebDriver session");
    b.session = v["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {v}"))
        .to_string();
    Some(b)
}

impl Browser {
    /// One HTTP/1.1 request to ChromeDriver; the reply's `value`.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        // Read the header, then the body by its length (ChromeDriver may
        // keep the connection open).
        let mut reply = Vec::new();
        let mut buf = [0u8; 65536];
        let split = loop {
            if let Some(i) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = s.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::Error::other("no HTTP header"));
            }
            reply.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&reply[..split]).to_lowercase();
        let mut content = reply[split + 4..].to_vec();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        match length {
            Some(len) => {
                while content.len() < len {
                    let n = s.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    content.extend_from_slice(&buf[..n]);
                }
            }
            None => {
                s.read_to_end(&mut content)?;
                if head.contains("transfer-encoding: chunked") {
                    content = unchunk(&content);
                }
            }
        }
        let v: Value = serde_json::from_slice(&content).map_err(std::io::Error::other)?;
        Ok(v["value"].clone())
    }

    /// A command of this session; panics on a WebDriver error.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let v = self
            .request(method, &full, body.as_ref())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if let Some(e) = v.get("error") {
            panic!("{method} {path}: {e}: {}", v["message"]);
        }
        v
    }

    pub fn open(&self, file: &Path) {
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// Run `script` (a function body; `arguments` are `args`) in the page.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    /// A real click (the browser's pointer events) on the element.
    pub fn click(&self, css: &str) {
        let e = self.element(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    /// Keys typed into the element (focused first), e.g. "\u{E007}" (Enter).
    pub fn keys(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// The console messages so far, as (level, message).
    pub fn console(&self) -> Vec<(String, String)> {
        let v = self.cmd("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|list| {
                list.iter()
                    .map(|m| {
                        (
                            m["level"].as_str().unwrap_or("").to_string(),
                            m["message"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The viewport as PNG bytes.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64_decode as b64;
        let v = self.cmd("GET", "/screenshot", None);
        b64(v.as_str().unwrap())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.request("DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

/// Standard base64 (WebDriver's screenshots).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(val(c)) << (18 - 6 * i);
        }
        let k = chunk.len() * 6 / 8;
        for i in 0..k {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The PNG's pixels as RGBA.
pub fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<[u8; 4]>) {
    let mut d = png::Decoder::new(std::io::Cursor::new(png_bytes));
    d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut r = d.read_info().expect("a PNG");
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).expect("a frame");
    let ch = info.color_type.samples();
    let px = buf[..info.buffer_size()]
        .chunks(ch)
        .map(|p| match ch {
            4 => [p[0], p[1], p[2], p[3]],
            3 => [p[0], p[1], p[2], 255],
            2 => [p[0], p[0], p[0], p[1]],
            _ => [p[0], p[0], p[0], 255],
        })
        .collect();
    (info.width, info.height, px)
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
