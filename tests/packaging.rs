//! The Debian package's own files, checked without building it (scripts/build-deb.sh does):
//! the systemd units parse and run what the package installs, exit 3 succeeds but is said,
//! the example pipeline loads, every asset that is not generated exists, and the package
//! depends on Debian's Tesseract library and its three models only (vie; osd for orientation;
//! eng for foreign pages).

use std::collections::HashMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A unit file's sections and keys (repeated keys keep every value), refusing anything that
/// is not a comment, a section header or `Key=value`.
fn unit(name: &str) -> HashMap<String, HashMap<String, Vec<String>>> {
    let path = root().join("packaging/systemd").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sections: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    let mut current = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(section.to_owned());
            sections.entry(section.to_owned()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}:{}: not Key=value: {line}", n + 1));
        let section = current
            .clone()
            .unwrap_or_else(|| panic!("{name}:{}: key outside a section", n + 1));
        assert!(
            key.chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}:{}: bad key {key:?}",
            n + 1
        );
        sections
            .entry(section)
            .or_default()
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    sections
}

fn one<'a>(u: &'a HashMap<String, HashMap<String, Vec<String>>>, s: &str, k: &str) -> &'a str {
    let values = &u[s][k];
    assert_eq!(values.len(), 1, "[{s}] {k}");
    &values[0]
}

#[test]
fn the_service_runs_the_installed_binary_and_surfaces_exit_3() {
    let service = unit("dossier-nightly.service");
    assert_eq!(one(&service, "Service", "Type"), "oneshot");
    assert_eq!(one(&service, "Service", "User"), "dossier");
    assert_eq!(
        one(&service, "Service", "ExecStart"),
        "/usr/bin/dossier run /etc/dossier/pipeline.toml"
    );
    assert_eq!(one(&service, "Service", "SuccessExitStatus"), "3");
    let post = one(&service, "Service", "ExecStopPost");
    assert!(
        post.contains("\"$EXIT_STATUS\" = 3")
            && post.contains("finished with rejected inputs")
            && post.contains("-p warning"),
        "{post}"
    );
    // The log goes where the package makes a folder for it.
    for key in ["StandardOutput", "StandardError"] {
        assert_eq!(
            one(&service, "Service", key),
            "append:/var/log/dossier/nightly.log"
        );
    }
    let postinst = std::fs::read_to_string(root().join("packaging/debian/postinst")).unwrap();
    assert!(postinst.contains("install -d -o dossier -g dossier -m 0750 /var/log/dossier"));
    assert!(postinst.contains("useradd --system"));

    let timer = unit("dossier-nightly.timer");
    assert_eq!(one(&timer, "Timer", "OnCalendar"), "*-*-* 01:30:00");
    assert_eq!(one(&timer, "Install", "WantedBy"), "timers.target");
}

#[test]
fn the_example_pipeline_loads() {
    let path = Path::new("/etc/dossier/pipeline.toml");
    let text = std::fs::read_to_string(root().join("packaging/pipeline.toml")).unwrap();
    let config = dossier::config::Config::from_toml(&text, path).unwrap();
    assert_eq!(config.languages, "vie");
}

#[test]
fn the_package_depends_on_tesseract_and_its_models_only_and_its_assets_exist() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    assert_eq!(
        deb["depends"].as_str(),
        Some("libtesseract5, tesseract-ocr-vie, tesseract-ocr-osd, tesseract-ocr-eng")
    );
    let mut destinations = Vec::new();
    for asset in deb["assets"].as_array().unwrap() {
        let source = asset[0].as_str().unwrap();
        destinations.push(asset[1].as_str().unwrap().to_owned());
        // Made by the build (the binary) or by scripts/build-deb.sh (man pages, completions).
        if source.starts_with("target/") || source.starts_with("packaging/generated/") {
            continue;
        }
        assert!(root().join(source).is_file(), "asset {source} is missing");
    }
    for wanted in [
        "usr/bin/",
        "etc/dossier/pipeline.toml",
        "lib/systemd/system/",
        "usr/share/man/man1/",
        "usr/share/bash-completion/completions/dossier",
        "usr/share/fish/vendor_completions.d/dossier.fish",
        "usr/share/zsh/vendor-completions/_dossier",
    ] {
        assert!(destinations.iter().any(|d| d == wanted), "{wanted}");
    }
}

/// systemd opens `StandardOutput=append:` files as root before it switches to `User=`, so a
/// log it creates is root's, mode 0600 under `UMask=0077` (systemd issue #14385): the dossier
/// group could not read it and logrotate, which rotates as `su dossier dossier`, could not open
/// it. The postinst makes the file first, as dossier's; copytruncate keeps that file.
/// scripts/check-deb.sh shows both on an installed package.
#[test]
fn the_package_makes_the_nightly_log_as_dossiers_so_logrotate_can_rotate_it() {
    let service = unit("dossier-nightly.service");
    let log = one(&service, "Service", "StandardOutput")
        .strip_prefix("append:")
        .unwrap();
    assert_eq!(one(&service, "Service", "UMask"), "0077");
    let postinst = std::fs::read_to_string(root().join("packaging/debian/postinst")).unwrap();
    assert!(
        postinst.contains(&format!(
            "install -o dossier -g dossier -m 0640 /dev/null {log}"
        )),
        "postinst does not make {log}"
    );
    let logrotate = std::fs::read_to_string(root().join("packaging/debian/logrotate")).unwrap();
    let (pattern, body) = logrotate.split_once('{').unwrap();
    let folder = Path::new(log).parent().unwrap();
    assert_eq!(pattern.trim(), format!("{}/*.log", folder.display()));
    let directives: Vec<&str> = body.lines().map(str::trim).collect();
    assert!(directives.contains(&"su dossier dossier"), "{body}");
    assert!(directives.contains(&"copytruncate"), "{body}");
}

/// prerm, run for real with a systemctl that only writes down what it is asked: on removal it
/// disables the timer even where no systemd runs (a chroot, an image build), and leaves it
/// alone on an upgrade.
#[test]
fn removing_the_package_disables_the_timer_even_without_a_running_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let asked = dir.path().join("asked");
    let fake = dir.path().join("systemctl");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho \"$*\" >>'{}'\n", asked.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let prerm = |argument: &str| {
        let status = std::process::Command::new("/bin/sh")
            .arg(root().join("packaging/debian/prerm"))
            .arg(argument)
            .env("PATH", dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "prerm {argument}: {status}");
        std::fs::read_to_string(&asked).unwrap_or_default()
    };
    assert_eq!(prerm("upgrade"), "", "an upgrade keeps the timer");
    let calls = prerm("remove");
    assert!(
        calls.lines().any(|l| l == "disable dossier-nightly.timer"),
        "{calls:?}"
    );
}

/// The release profile keeps line tables; cargo-deb ships a binary as it is built unless told
/// to split the symbols off, which made /usr/bin/dossier 131 MB instead of 20.
/// scripts/check-deb.sh looks for debug sections in the installed binary.
#[test]
fn the_package_ships_a_stripped_binary_when_the_release_profile_keeps_debug_info() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let debug = manifest
        .get("profile")
        .and_then(|p| p.get("release"))
        .and_then(|r| r.get("debug"));
    let keeps_debug_info = match debug {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(toml::Value::Integer(n)) => *n != 0,
        Some(toml::Value::String(s)) => s != "none",
        Some(other) => panic!("[profile.release] debug = {other}"),
    };
    let deb = &manifest["package"]["metadata"]["deb"];
    let splits = |key: &str| deb.get(key).and_then(toml::Value::as_bool) == Some(true);
    assert!(
        !keeps_debug_info || splits("dbgsym") || splits("separate-debug-symbols"),
        "[profile.release] debug = {debug:?} but [package.metadata.deb] neither dbgsym nor separate-debug-symbols"
    );
}
