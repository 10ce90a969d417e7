//! The register parser: any bytes give rows and problems, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rows = 0usize;
    let _ = dossier::register::read_register_csv(data, |_, row| {
        // Every row that comes out holds safe codes and a received date.
        assert!(dossier::intake::layout::validate_code(&row.dossier_code).is_ok());
        assert!(dossier::intake::layout::validate_code(&row.procedure_code).is_ok());
        rows += 1;
        None
    });
});
