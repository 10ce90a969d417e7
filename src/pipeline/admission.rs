//! Memory under any input: pages are admitted to the OCR queue only while the process's
//! resident memory is under a limit, or when no page is in flight at all (so one huge page
//! still gets read, alone). Tesseract's memory for a page depends on what is on it (a page
//! of noise can take twenty times its pixels), so the limit is on what the process really
//! holds, not on an estimate. Freed memory is handed back to the system before waiting.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::produce::Stop;

/// The resident memory above which no further page is queued while others are in flight.
pub(super) const RSS_LIMIT_BYTES: u64 = 640 << 20;

pub(super) struct Admission {
    in_flight: Mutex<usize>,
    finished: Condvar,
    limit: u64,
}

/// A page admitted to OCR: holds its place until dropped (when the page has been read).
pub(super) struct Admitted(Arc<Admission>);

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut n = self.0.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        self.0.finished.notify_all();
    }
}

impl Admission {
    pub fn new(limit: u64) -> Arc<Admission> {
        Arc::new(Admission {
            in_flight: Mutex::new(0),
            finished: Condvar::new(),
            limit,
        })
    }

    /// Waits until a page may be queued; `Err(Stop)` when the run stops meanwhile.
    pub fn admit(self: &Arc<Self>, stopping: impl Fn() -> bool) -> Result<Admitted, Stop> {
        let mut n = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *n == 0 || resident_bytes() < self.limit {
                *n += 1;
                return Ok(Admitted(Arc::clone(self)));
            }
            release_free_memory();
            if resident_bytes() < self.limit {
                continue;
            }
            if stopping() {
                return Err(Stop);
            }
            n = self
                .finished
                .wait_timeout(n, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        *self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The process's resident memory (0 when it cannot be read: then nothing waits).
pub(super) fn resident_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page_size).unwrap_or(4096)
}

/// Returns freed heap memory to the system (glibc keeps it otherwise).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_limit_pages_are_admitted_and_counted_until_read() {
        let admission = Admission::new(u64::MAX);
        let a = admission.admit(|| false).ok().expect("admitted");
        let b = admission.admit(|| false).ok().expect("admitted");
        assert_eq!(admission.in_flight(), 2);
        drop(a);
        drop(b);
        assert_eq!(admission.in_flight(), 0);
    }

    #[test]
    fn over_the_limit_one_page_still_goes_alone_and_the_next_waits_for_it() {
        let admission = Admission::new(1);
        let first = admission.admit(|| false).ok().expect("alone, admitted");
        assert!(
            admission.admit(|| true).is_err(),
            "a second page waits (here: until the run stops)"
        );
        let waiting = Arc::clone(&admission);
        let next = std::thread::spawn(move || waiting.admit(|| false).is_ok());
        std::thread::sleep(Duration::from_millis(150));
        assert!(
            !next.is_finished(),
            "still waiting while the first is in flight"
        );
        drop(first);
        assert!(
            next.join().expect("no panic"),
            "admitted once the first was read"
        );
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes() > 1 << 20);
    }
}
