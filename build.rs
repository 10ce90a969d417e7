//! Build script: the C shims that catch Tesseract's messages (src/ocr/capture.c, exported from
//! the binary so that libtesseract's calls bind to it) and keep its line images raw
//! (src/ocr/line_images.c), and the git commit that `--version`
//! names (HEAD's commit; uncommitted changes are not marked). A source tarball without `.git` (or a machine without git) builds too: the commit is
//! then "unknown", or `DOSSIER_GIT_COMMIT` when the packager sets it.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/ocr/capture.c");
    println!("cargo:rerun-if-changed=src/ocr/line_images.c");
    cc::Build::new()
        .file("src/ocr/capture.c")
        .file("src/ocr/line_images.c")
        .warnings(true)
        .compile("dossier_capture");
    // The dynamic linker binds libtesseract's tprintf calls to the binary's definition only
    // when the binary exports it.
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=_ZN9tesseract7tprintfEPKcz");
    // No Rust code calls pixWriteMem: ask the linker for it, so line_images.c is linked in
    // (libtesseract's calls then bind to it) in the binary, the tests and the benchmarks.
    println!("cargo:rustc-link-arg=-Wl,--undefined=pixWriteMem");
    // The linker exports it anyway (libtesseract refers to it); say so rather than rely on it.
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=pixWriteMem");

    println!("cargo:rerun-if-env-changed=DOSSIER_GIT_COMMIT");
    let commit = std::env::var("DOSSIER_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=DOSSIER_GIT_COMMIT={commit}");
}

/// The short commit of HEAD; the build runs again when HEAD moves (a worktree keeps its HEAD in
/// its own git dir, the branch refs in the common one).
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "--short=12", "HEAD"])?;
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let Some(common) = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        // Only files that exist: cargo takes a missing one for changed, and would build the
        // crate again every time (a fresh clone has no packed-refs).
        let watch = |path: String| {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        };
        watch(format!("{common}/packed-refs"));
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(format!("{common}/{reference}"));
        }
    }
    Some(head)
}
