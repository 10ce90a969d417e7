//! The auditors' web desk against an archive made by a real run (real Tesseract): the server
//! on a free loopback port, spoken to over plain HTTP/1.1, and headless Chromium's screenshots.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::TestEnv;
use serde_json::Value;

/// The server, stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(archive: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args([
            "serve",
            "--archive",
            archive.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.trim().trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("serve did not say where it listens: {line:?}"));
    Server { child, addr }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on its own connection (`Connection: close`), the raw path sent as given.
fn request(addr: SocketAddr, method: &str, path: &str, cookie: &str, form: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = form.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked")
    {
        body = unchunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, "", None)
}

fn stdout(env: &TestEnv, args: &[&str]) -> String {
    let out = env.dossier(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every `href="/dossiers/CODE"` on a page.
fn dossier_links(html: &str) -> Vec<String> {
    html.split("href=\"/dossiers/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_desk_shows_the_reports_figures_and_every_page_and_logs_views() {
    let env = TestEnv::generated(3);
    let (code, _, stderr) = env.run();
    assert!(code == 0 || code == 3, "run: {stderr}");
    let archive = env.archive();
    let a = archive.to_str().unwrap();
    let server = start(&archive);
    let addr = server.addr;

    // /api/report is report --format json, byte for byte, for a period and a grouping too.
    let api = get(addr, "/api/report");
    assert_eq!(api.status, 200);
    assert_eq!(
        api.text(),
        stdout(&env, &["report", "--archive", a, "--format", "json"])
    );
    let api = get(addr, "/api/report?from=2024-01-01&to=2030-12-31&by=unit");
    let cli = stdout(
        &env,
        &[
            "report",
            "--archive",
            a,
            "--format",
            "json",
            "--from",
            "2024-01-01",
            "--to",
            "2030-12-31",
            "--by",
            "unit",
        ],
    );
    assert_eq!(api.text(), cli);
    assert_eq!(get(addr, "/api/report?from=nope").status, 400);

    // The dashboard: the totals, security headers, figures linked to their dossiers.
    let report: Value = serde_json::from_slice(&get(addr, "/api/report").body).unwrap();
    let dash = get(addr, "/");
    assert_eq!(dash.status, 200);
    let csp = dash.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(dash.header("x-content-type-options"), Some("nosniff"));
    let html = dash.text();
    let received = report["totals"]["received"].as_u64().unwrap();
    assert!(
        html.contains(&format!(">{received}</a>")),
        "totals not shown:\n{html}"
    );
    assert!(html.contains("<svg"), "no chart");
    let list = get(addr, "/dossiers?measure=received");
    let codes = dossier_links(&list.text());
    assert_eq!(
        codes.len() as u64,
        received,
        "the list behind the total has every dossier"
    );
    let digitized = get(addr, "/dossiers?measure=digitized");
    assert_eq!(
        dossier_links(&digitized.text()).len() as u64,
        report["totals"]["digitized"].as_u64().unwrap()
    );

    // A dossier page: every hash and every page image, the images served as PNG.
    let code = &codes[0];
    let shown = env.show(code);
    let page = get(addr, &format!("/dossiers/{code}"));
    assert_eq!(page.status, 200);
    let html = page.text();
    for d in shown["documents"].as_array().unwrap() {
        let sha = d["sha256"].as_str().unwrap();
        assert!(html.contains(sha), "{sha} not on the page");
        for p in d["pages"].as_array().unwrap() {
            let n = p["source_page"]
                .as_u64()
                .unwrap_or(p["page"].as_u64().unwrap());
            let src = format!("/objects/{sha}/pages/{n}");
            assert!(html.contains(&format!("src=\"{src}\"")), "no image {src}");
            let img = get(addr, &src);
            assert_eq!(img.status, 200, "{src}");
            assert_eq!(img.header("content-type"), Some("image/png"));
            assert!(
                image::load_from_memory(&img.body).is_ok(),
                "{src} is not a PNG"
            );
        }
        let original = get(addr, &format!("/objects/{sha}"));
        assert_eq!(original.status, 200);
        assert_eq!(common::sha256_bytes(&original.body), sha);
    }

    // Path tricks: 400 for what is not a hash or a code, 404 for what is unknown.
    for (path, want) in [
        ("/objects/abc", 400),
        ("/objects/..%2F..%2Fetc%2Fpasswd", 400),
        (&format!("/objects/{}", "A".repeat(64)), 400),
        (&format!("/objects/{}", "0".repeat(64)), 404),
        (&format!("/objects/{}/pages/x", "0".repeat(64)), 400),
        ("/dossiers/..%2F..%2Fetc%2Fpasswd", 400),
        ("/dossiers/%2E%2E", 400),
        ("/dossiers/NO-SUCH-DOSSIER", 404),
        ("/objects/../../etc/passwd", 404),
        ("/../../etc/passwd", 404),
    ] {
        let r = get(addr, path);
        assert_eq!(r.status, want, "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // Objects the index names but that are no document's original (the run's evidence
    // records) are not served.
    let record = std::fs::read_dir(archive.join("objects"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().into_string().unwrap())
        .find(|sha| !html.contains(sha.as_str()))
        .expect("an object that is not an original");
    assert_eq!(get(addr, &format!("/objects/{record}")).status, 404);

    // Search with snippets links to the dossier with the terms highlighted.
    let search = get(addr, "/search?q=khai").text();
    assert!(search.contains("class=\"snippet\""), "{search}");

    // The view is in the access log.
    let log = stdout(&env, &["access-log", "--archive", a, "--json"]);
    let log: Value = serde_json::from_str(&log).unwrap();
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["dossier_code"] == code.as_str() && e["what"] == "dossier"));

    // Sampling: reproducible with its seed, verdicts from the command line and the web.
    let sample = |seed: &str| {
        stdout(
            &env,
            &[
                "audit",
                "sample",
                "--archive",
                a,
                "--size",
                "2",
                "--seed",
                seed,
                "--json",
            ],
        )
    };
    let s1: Value = serde_json::from_str(&sample("11")).unwrap();
    assert_eq!(s1, serde_json::from_str::<Value>(&sample("11")).unwrap());
    assert_eq!(s1["seed"], 11);
    let drawn: Vec<String> = s1["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        drawn.len() as u64,
        2.min(report["totals"]["digitized"].as_u64().unwrap())
    );
    let first = drawn.first().unwrap_or(code);
    stdout(
        &env,
        &[
            "audit",
            "record",
            "--archive",
            a,
            first,
            "--verdict",
            "not-confirmed",
            "--note",
            "trang 1 mờ",
            "--auditor",
            "kt1",
        ],
    );
    let audit = get(addr, "/audit?size=2&seed=11");
    assert_eq!(audit.status, 200);
    let cookie = audit
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    assert!(audit.header("set-cookie").unwrap().contains("HttpOnly"));
    assert!(audit
        .header("set-cookie")
        .unwrap()
        .contains("SameSite=Strict"));
    let audit = request(addr, "GET", "/audit?size=2&seed=11", &cookie, None).text();
    let csrf = audit
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let form = |token: &str| {
        format!(
            "csrf={token}&code={}&verdict=confirmed&note=ok&size=2&seed=11&from=&to=",
            common_pct(code)
        )
    };
    assert_eq!(
        request(
            addr,
            "POST",
            "/audit/verdict",
            &cookie,
            Some(&form("wrong"))
        )
        .status,
        400
    );
    assert_eq!(
        request(addr, "POST", "/audit/verdict", &cookie, Some(&form(&csrf))).status,
        303
    );
    let r: Value = serde_json::from_str(&stdout(
        &env,
        &["audit", "report", "--archive", a, "--format", "json"],
    ))
    .unwrap();
    let checked = if first == code { 1 } else { 2 };
    assert_eq!(r["checked"], checked, "{r}");
    assert!(r["wilson_95"].is_array(), "{r}");
    audit_report_files(&env, a, &r);

    // Verdicts are ledger entries and events that verify accepts, and that an index
    // rebuilt from the evidence has again.
    drop(server);
    let (code, v) = common::verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{v}");
    let copy = common::copy_archive(&env, "rebuilt");
    std::fs::remove_file(copy.join("index.sqlite")).unwrap();
    stdout(
        &env,
        &["rebuild-index", "--archive", copy.to_str().unwrap()],
    );
    let (code, v) = common::verify(&env, &copy, &[]);
    assert_eq!(code, 0, "{v}");
    let again = stdout(
        &env,
        &[
            "audit",
            "report",
            "--archive",
            copy.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        again["verdicts"], r["verdicts"],
        "verdicts lost by rebuild-index"
    );

    screenshots(&env, &archive, &codes[0]);
}

fn common_pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Headless Chromium's screenshots of the dashboard and a dossier page: real PNGs of the
/// size asked, not blank, kept in target/desk-screenshots for a person to look at.
fn screenshots(env: &TestEnv, archive: &Path, code: &str) {
    let server = start(archive);
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desk-screenshots");
    std::fs::create_dir_all(&out_dir).unwrap();
    for (name, path) in [
        ("dashboard", "/".to_owned()),
        ("dossier", format!("/dossiers/{code}?q=khai")),
    ] {
        let file = out_dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&file);
        let profile = tempfile::tempdir().unwrap();
        let status = Command::new("/usr/bin/chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                &format!("--user-data-dir={}", profile.path().display()),
                &format!("--screenshot={}", file.display()),
                "--window-size=1280,900",
                &format!("http://{}{path}", server.addr),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("chromium runs (scripts/install-deps.sh installs it)");
        assert!(status.success(), "chromium failed on {path}");
        let shot = image::open(&file).unwrap().to_luma8();
        assert_eq!((shot.width(), shot.height()), (1280, 900));
        let dark = shot.pixels().filter(|p| p.0[0] < 128).count();
        assert!(
            dark > 2000,
            "{name} screenshot looks blank ({dark} dark pixels)"
        );
    }
    let _ = env;
}

#[test]
fn without_users_only_loopback_and_with_users_a_login() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert!(code == 0 || code == 3, "run: {stderr}");
    let archive = env.archive();
    let a = archive.to_str().unwrap();
    let out = env.dossier(&["serve", "--archive", a, "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no desk users are configured"), "{err}");

    // A user, its password from standard input, stored as an argon2id hash.
    let mut add = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["users", "add", "--archive", a, "kiemtoan1"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"mat-khau-dai\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    assert_eq!(
        stdout(&env, &["users", "list", "--archive", a]),
        "kiemtoan1\n"
    );

    let server = start(&archive);
    let addr = server.addr;
    let home = get(addr, "/");
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), Some("/login"));
    assert_eq!(get(addr, "/api/report").status, 401);
    assert_eq!(
        get(addr, &format!("/objects/{}", "0".repeat(64))).status,
        401
    );
    assert_eq!(get(addr, "/login").status, 200);
    let wrong = request(
        addr,
        "POST",
        "/login",
        "",
        Some("user=kiemtoan1&password=sai"),
    );
    assert_eq!(wrong.header("location"), Some("/login?failed"));
    assert!(wrong.header("set-cookie").is_none());
    let ok = request(
        addr,
        "POST",
        "/login",
        "",
        Some("user=kiemtoan1&password=mat-khau-dai"),
    );
    assert_eq!(ok.header("location"), Some("/"));
    let set = ok.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let api = request(addr, "GET", "/api/report", &cookie, None);
    assert_eq!(api.status, 200);
    let list = request(addr, "GET", "/dossiers?measure=received", &cookie, None).text();
    let code = dossier_links(&list).remove(0);
    assert_eq!(
        request(addr, "GET", &format!("/dossiers/{code}"), &cookie, None).status,
        200
    );
    let log = stdout(&env, &["access-log", "--archive", a, "--dossier", &code]);
    assert!(log.contains("kiemtoan1") && log.contains(&code), "{log}");
}

/// Vietnamese by default, English once switched (`?lang=en`, then remembered in a cookie),
/// and back: on the dashboard and on a dossier page, the words and the page's `lang`.
#[test]
fn the_desk_speaks_vietnamese_by_default_and_english_when_switched() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert!(code == 0 || code == 3, "run: {stderr}");
    let server = start(&env.archive());
    let addr = server.addr;
    let codes = dossier_links(&get(addr, "/dossiers?measure=received").text());
    let dossier = format!("/dossiers/{}", codes.first().expect("a dossier"));

    // Words of the page that only one language has.
    let vi = ["Tổng quan", "Tìm kiếm", "Kiểm tra xác suất"];
    let en = ["Dashboard", "Search", "Audit by sampling"];
    let speaks = |html: &str, code: &str, words: &[&str], other: &[&str]| {
        assert!(html.contains(&format!("<html lang=\"{code}\"")), "{html}");
        for w in words {
            assert!(html.contains(w), "{w:?} missing:\n{html}");
        }
        for w in other {
            assert!(
                !html.contains(&format!(">{w}<")),
                "{w:?} in the other language:\n{html}"
            );
        }
    };
    let dash = get(addr, "/");
    speaks(&dash.text(), "vi", &vi, &en);
    assert!(
        dash.text().contains(">English</a>"),
        "the switch is offered"
    );
    let page = get(addr, &dossier);
    assert_eq!(page.status, 200);
    speaks(
        &page.text(),
        "vi",
        &["Tài liệu và phiên bản", "Sự kiện"],
        &["Events"],
    );

    // Switched: English, and the choice kept in a cookie for the next pages.
    let switched = get(addr, "/?lang=en");
    speaks(&switched.text(), "en", &en, &vi);
    // The language's own Set-Cookie (a session cookie may come beside it).
    let lang_cookie = |r: &Reply| {
        r.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|c| c.starts_with("lang="))
            .map(str::to_owned)
    };
    let cookie = lang_cookie(&switched).expect("the language is remembered");
    assert_eq!(cookie, "lang=en");
    let page = request(addr, "GET", &dossier, &cookie, None);
    assert_eq!(page.status, 200);
    speaks(
        &page.text(),
        "en",
        &["Documents and versions", "Events", "Ledger entries"],
        &["Sự kiện"],
    );
    let dash = request(addr, "GET", "/", &cookie, None).text();
    speaks(&dash, "en", &en, &vi);
    assert!(
        dash.contains(">Tiếng Việt</a>"),
        "the switch back is offered"
    );

    // And back to Vietnamese.
    let back = request(addr, "GET", "/?lang=vi", &cookie, None);
    speaks(&back.text(), "vi", &vi, &en);
    assert_eq!(lang_cookie(&back).as_deref(), Some("lang=vi"));
}

/// `audit report` as html (Vietnamese by default) and xlsx (English asked), read back: the
/// figures of the JSON report and every verdict, the auditor's note as written.
fn audit_report_files(env: &TestEnv, a: &str, r: &Value) {
    let html_path = env.root().join("audit.html");
    let out = html_path.to_str().unwrap();
    stdout(
        env,
        &[
            "audit",
            "report",
            "--archive",
            a,
            "--format",
            "html",
            "--output",
            out,
        ],
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"vi\""));
    assert!(html.contains("Số hồ sơ đã kiểm tra</th><td>"), "{html}");
    assert!(
        html.contains(&format!("<td>{}</td>", r["checked"])),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    let verdicts = r["verdicts"].as_array().unwrap();
    for v in verdicts {
        let code = v["dossier_code"].as_str().unwrap();
        assert!(
            html.contains(&format!("<td class=\"code\">{code}</td>")),
            "{html}"
        );
    }
    // Every verdict's note (the command line's "trang 1 mờ" unless the web's verdict on the
    // same dossier replaced it).
    for v in verdicts {
        let note = v["note"].as_str().unwrap_or_default();
        assert!(html.contains(note), "the note {note:?}: {html}");
    }
    assert!(
        verdicts.iter().any(|v| v["note"] == "trang 1 mờ") || verdicts.len() == 1,
        "{r}"
    );
    let head = r["ledger_head"]["hash"].as_str().unwrap();
    assert!(html.contains(head), "the ledger head");

    let xlsx_path = env.root().join("audit.xlsx");
    let out = xlsx_path.to_str().unwrap();
    stdout(
        env,
        &[
            "audit",
            "report",
            "--archive",
            a,
            "--format",
            "xlsx",
            "--lang",
            "en",
            "--output",
            out,
        ],
    );
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&xlsx_path).unwrap();
    let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let value = |label: &str| {
        rows.iter()
            .find(|row| row.first() == Some(&Data::String(label.into())))
            .map(|row| row[1].clone())
            .unwrap_or_else(|| panic!("no {label} row"))
    };
    assert_eq!(
        value("Dossiers checked"),
        Data::Float(r["checked"].as_f64().unwrap())
    );
    assert_eq!(
        value("Not confirmed"),
        Data::Float(r["not_confirmed"].as_f64().unwrap())
    );
    match value("Observed error rate") {
        Data::Float(f) => assert!((f * 100.0 - r["error_percent"].as_f64().unwrap()).abs() < 1e-9),
        other => panic!("the rate is a number: {other:?}"),
    }
    let heading = rows
        .iter()
        .position(|row| row.first() == Some(&Data::String("Dossier".into())))
        .expect("the verdicts' heading");
    let listed = &rows[heading + 1..];
    assert_eq!(listed.len(), verdicts.len());
    for (row, v) in listed.iter().zip(verdicts) {
        assert_eq!(
            row[0],
            Data::String(v["dossier_code"].as_str().unwrap().into())
        );
        assert_eq!(row[4], Data::String(v["note"].as_str().unwrap().into()));
    }
}
