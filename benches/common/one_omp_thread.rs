//! Benchmarks that read pages in-process run with one OpenMP thread, as `dossier run` does.

use std::process::Command;

use dossier::ocr;

/// As `dossier run` does (src/main.rs): libgomp reads OMP_THREAD_LIMIT once, when
/// libtesseract loads, and OpenMP threads inside the engine make a page several times slower
/// on 2 cores shared with the CLI.
pub fn restart_if_needed() {
    if !ocr::needs_omp_reexec() {
        return;
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().expect("the bench's own path");
    let err = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    eprintln!("could not restart with OMP_THREAD_LIMIT=1 ({err}); carrying on, slower");
}
